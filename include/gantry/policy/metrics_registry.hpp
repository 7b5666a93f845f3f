#pragma once
/// @file
/// Request metrics sharded per worker, rendered in the Prometheus text format.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/policy/policy_timing.hpp"

namespace gantry::policy {

/// One completed exchange, as `metrics_registry::record` counts it.
struct metrics_sample {
  /// The route's name; empty when no route matched or it has no name.
  std::string_view route{};
  /// The cluster the request went to; empty for a local response.
  std::string_view cluster{};
  /// The status sent to the client; 0 when there was no response.
  std::uint16_t status = 0;
  /// From the request head to the end of the response.
  std::chrono::nanoseconds duration{};
  /// From the request head to the upstream's response head; empty when the upstream gave
  /// none (a local response, a failed connection).
  std::optional<std::chrono::nanoseconds> upstream{};
  /// Bytes read from the client, and written to it.
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

/// What happened to a client connection, outside any exchange: a gateway given the registry
/// (`gateway_options::metrics`) counts these.
enum class connection_event : std::uint8_t {
  /// A client connection was accepted (`gantry_connections_total`).
  accepted,
  /// A TLS handshake with a client completed in full (`gantry_tls_handshakes_total`, with
  /// `result="full"`)...
  tls_full_handshake,
  /// ... resumed a session from the cache or a ticket (`result="resumed"`)...
  tls_resumed,
  /// ... failed: not TLS (plain HTTP on a TLS port), garbage, no common suite, a client
  /// certificate refused, an alert, a close mid-handshake (`result="failed"`)...
  tls_failed,
  /// ... or did not finish within the request head's timeout (`result="timed_out"`).
  tls_timed_out,
};

/// Counters and latency histograms per (route, cluster), sharded per worker so that
/// recording takes no lock, rendered in the Prometheus text exposition format (0.0.4):
///
/// ```
/// gantry_requests_total{route="users",cluster="users-v2",status_class="2xx"} 1027
/// gantry_request_duration_seconds_bucket{route="users",cluster="users-v2",le="0.005"} 980
/// ...
/// gantry_request_duration_seconds_bucket{route="users",cluster="users-v2",le="+Inf"} 1031
/// gantry_request_duration_seconds_sum{route="users",cluster="users-v2"} 3.52
/// gantry_request_duration_seconds_count{route="users",cluster="users-v2"} 1031
/// gantry_upstream_duration_seconds_bucket{...}   (only exchanges with an upstream head)
/// gantry_request_bytes_total{route="users",cluster="users-v2"} 118210
/// gantry_response_bytes_total{route="users",cluster="users-v2"} 5023114
/// ```
///
/// followed by the time each policy took in each phase, when chains time their policies
/// (`policy_times`, `metrics_config::policy_time_sampling`):
///
/// ```
/// gantry_policy_duration_seconds_bucket{policy="ids",phase="request_head",mode="sync",le="1e-06"}
/// 51 gantry_policy_sampled_exchanges_total 53
/// ```
///
/// then the connection counters (`connection_event`), once something was counted:
///
/// ```
/// gantry_connections_total 1200
/// gantry_tls_handshakes_total{result="full"} 310
/// gantry_tls_handshakes_total{result="resumed"} 880
/// gantry_tls_handshakes_total{result="failed"} 9
/// gantry_tls_handshakes_total{result="timed_out"} 1
/// ```
///
/// `status_class` is "1xx" to "5xx", or "other" for an exchange without a response (the
/// client went away) or with a status outside 100 to 599. Histograms use the bucket bounds in
/// `bucket_bounds` (Prometheus' defaults, in seconds) plus +Inf. A series appears once it has
/// counted something.
///
/// **Sharding.** The registry has a fixed number of shards, one per worker: shard `i % shards()`
/// may be written by one thread at a time only (the gateway's worker `i`), and never takes a
/// lock. Its counters are relaxed atomics, so `render` reads them from any thread, at any
/// time, without a lock; it merges every shard. A (route, cluster) pair costs one allocation
/// in a shard the first time it appears there; after that, recording it allocates nothing.
///
/// Share it with `std::shared_ptr` between the `metrics` policies that record into it and
/// the `metrics_endpoint` that serves it: it outlives configuration reloads that rebuild the
/// chains, so counters keep counting.
///
/// ```
/// auto registry = std::make_shared<gantry::policy::metrics_registry>(workers);
/// chain.add(gantry::policy::metrics_config{.registry = registry});
/// admin_chain.add(gantry::policy::metrics_endpoint_config{.registry = registry});
/// ```
class metrics_registry {
 public:
  /// Upper bounds of the histogram buckets, in seconds (a last +Inf bucket follows).
  static constexpr std::array<double, 11> bucket_bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1,    2.5,   5,    10};

  /// A registry with `shards` shards (at least one): give the number of workers.
  explicit metrics_registry(std::size_t shards = 1);
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  /// Number of shards.
  std::size_t shards() const noexcept;

  /// The time accounting per policy and phase, with as many shards, that `render` includes.
  policy_timing& policy_times() noexcept { return policy_times_; }
  const policy_timing& policy_times() const noexcept { return policy_times_; }

  /// Counts one exchange in shard `shard % shards()`. Only one thread at a time may record
  /// into a given shard; `render` may run concurrently from any thread.
  void record(std::size_t shard, const metrics_sample& sample);
  /// Counts one connection event in shard `shard % shards()`. Unlike `record`, any number of
  /// threads may count into a shard (a gateway may have more workers than the registry has
  /// shards): it is one atomic increment, made once per connection.
  void count(std::size_t shard, connection_event event) noexcept;
  /// The events of that kind counted so far, over every shard.
  std::uint64_t count(connection_event event) const noexcept;

  /// Every series of every shard, merged, in the Prometheus text format, sorted by metric
  /// and labels.
  std::string render() const;
  /// Appends what `render` returns to `out`.
  void render(std::string& out) const;

 private:
  struct series;
  class shard;
  std::vector<std::unique_ptr<shard>> shards_;
  policy_timing policy_times_;
};

}  // namespace gantry::policy
