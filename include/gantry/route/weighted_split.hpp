#pragma once
/// @file
/// Splitting traffic across clusters by weight, optionally sticky per client.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/http/headers.hpp"

namespace gantry::route {

/// One destination of a split and its share.
struct weighted_cluster {
  /// The cluster's name.
  std::string cluster{};
  /// Its share relative to the other clusters' weights; 0 sends it nothing.
  std::uint32_t weight = 1;
};

/// Where a sticky split reads the value that keeps one client on one cluster.
struct sticky_key {
  /// The kind of request field holding the key.
  enum class source : std::uint8_t {
    header,  ///< A header field, e.g. "X-User-Id" (the first one when repeated).
    cookie,  ///< A cookie in the Cookie header(s), e.g. "session".
  };
  /// Where the key comes from.
  source from = source::header;
  /// The header field name (case-insensitive) or cookie name (case-sensitive).
  std::string name{};
};

/// Traffic split across clusters by weight: blue/green, canary.
///
/// Without a sticky key, or when the request does not carry it (or carries it empty), each
/// request goes to cluster `i` with probability `weight[i] / sum(weights)`. With a sticky key
/// present, its value alone decides: `sticky_hash` of the value, read as a fraction of the
/// total weight, picks the cluster, so the same value always lands on the same cluster, and
/// different values spread by weight. The mapping is stable across processes and versions.
///
/// Clusters own consecutive slices of the weight range in the order listed. With the canary
/// listed last, raising its weight only moves clients onto it: going from 90/10 to 80/20,
/// every client already on the canary stays there.
///
/// ```
/// gantry::route::weighted_split canary{
///     .clusters = {{"users-v1", 90}, {"users-v2", 10}},
///     .sticky = gantry::route::sticky_key{.from = gantry::route::sticky_key::source::cookie,
///                                         .name = "session"},
/// };
/// ```
struct weighted_split {
  /// The destinations, at least one, with a positive total weight.
  std::vector<weighted_cluster> clusters{};
  /// The key that keeps one client on one cluster, if any.
  std::optional<sticky_key> sticky{};
};

/// The stable 64-bit hash sticky splits use: 64-bit FNV-1a of the bytes, then the MurmurHash3
/// 64-bit finalizer so that keys differing only in their last bytes still spread evenly.
/// Part of the contract: changing it would move every sticky client.
std::uint64_t sticky_hash(std::string_view value) noexcept;

/// The index of the cluster that a uniformly distributed 64-bit `draw` selects: the draw is
/// read as a fraction of the total weight. Returns 0 when the weights sum to 0.
/// Precondition: `split.clusters` is not empty.
std::size_t pick_index(const weighted_split& split, std::uint64_t draw) noexcept;

/// The sticky key's value in `fields`, if the split has a sticky key and the request carries
/// it with a non-empty value. The view points into `fields`.
std::optional<std::string_view> sticky_value(const weighted_split& split,
                                             const http::headers& fields) noexcept;

/// Picks the destination for one request: by the sticky key when present, otherwise at random
/// by weight, drawing from the caller's generator (seed it to make tests deterministic).
/// The generator is not used for sticky picks. Does not allocate.
/// Precondition: `split.clusters` is not empty.
///
/// ```
/// std::mt19937_64 random{std::random_device{}()};   // one per worker
/// const std::string& cluster = pick_cluster(canary, request.fields, random).cluster;
/// ```
template <std::uniform_random_bit_generator Random>
const weighted_cluster& pick_cluster(const weighted_split& split, const http::headers& fields,
                                     Random& random) {
  if (auto key = sticky_value(split, fields))
    return split.clusters[pick_index(split, sticky_hash(*key))];
  std::uniform_int_distribution<std::uint64_t> full_range;
  return split.clusters[pick_index(split, full_range(random))];
}

}  // namespace gantry::route
