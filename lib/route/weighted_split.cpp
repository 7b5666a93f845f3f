#include "gantry/route/weighted_split.hpp"

#include "gantry/core/ascii.hpp"

namespace gantry::route {
namespace {

// The high 64 bits of a * b, so that a uniform 64-bit draw scales to [0, b) without the bias
// or the instability under a changed total that `draw % b` would have.
std::uint64_t multiply_high(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
  const std::uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo;
  const std::uint64_t hi_lo = a_hi * b_lo;
  const std::uint64_t lo_hi = a_lo * b_hi;
  const std::uint64_t hi_hi = a_hi * b_hi;
  const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
  return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

// The value of cookie `name` in one Cookie field ("a=1; session=xyz"), if there.
std::optional<std::string_view> find_cookie(std::string_view list, std::string_view name) noexcept {
  while (!list.empty()) {
    auto semicolon = list.find(';');
    std::string_view pair = core::trim_ows(list.substr(0, semicolon));
    auto equals = pair.find('=');
    if (equals != std::string_view::npos && core::trim_ows(pair.substr(0, equals)) == name) {
      std::string_view value = core::trim_ows(pair.substr(equals + 1));
      // RFC 6265 allows a cookie value in double quotes; the quotes are not part of it.
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return value;
    }
    if (semicolon == std::string_view::npos) break;
    list.remove_prefix(semicolon + 1);
  }
  return std::nullopt;
}

}  // namespace

std::uint64_t sticky_hash(std::string_view value) noexcept {
  std::uint64_t h = 0xcbf29ce484222325u;  // FNV-1a 64 offset basis
  for (char c : value) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3u;  // FNV-1a 64 prime
  }
  // FNV-1a leaves the last byte's influence in the low and middle bits; multiply_high reads
  // the top bits, so mix every bit into them (MurmurHash3 fmix64).
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdu;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53u;
  h ^= h >> 33;
  return h;
}

std::size_t pick_index(const weighted_split& split, std::uint64_t draw) noexcept {
  std::uint64_t total = 0;
  for (const weighted_cluster& c : split.clusters) total += c.weight;
  if (total == 0) return 0;
  std::uint64_t point = multiply_high(draw, total);
  for (std::size_t i = 0; i < split.clusters.size(); ++i) {
    if (point < split.clusters[i].weight) return i;
    point -= split.clusters[i].weight;
  }
  return split.clusters.size() - 1;  // not reached: point < total
}

std::optional<std::string_view> sticky_value(const weighted_split& split,
                                             const http::headers& fields) noexcept {
  if (!split.sticky) return std::nullopt;
  const sticky_key& key = *split.sticky;
  std::optional<std::string_view> value;
  if (key.from == sticky_key::source::header) {
    value = fields.get(key.name);
  } else {
    // HTTP/2 may split cookies over several fields (RFC 9113 8.2.3); look in each.
    for (http::field f : fields) {
      if (!core::iequals(f.name, "cookie")) continue;
      if ((value = find_cookie(f.value, key.name))) break;
    }
  }
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace gantry::route
