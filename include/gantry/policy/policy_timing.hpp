#pragma once
/// @file
/// Sampled time accounting per policy and phase, sharded per worker.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/policy/phase.hpp"

namespace gantry::policy {

/// How a timed phase call ended: at once (a `verdict`, or an `outcome` that was ready), or
/// through an awaitable that the chain then co_awaited.
enum class phase_mode : std::uint8_t { sync, async };

/// How long each policy spends in each phase, for the exchanges a chain samples: histograms
/// per (policy name, phase, mode), sharded per worker so that recording takes no lock,
/// rendered in the Prometheus text format (0.0.4):
///
/// ```
/// gantry_policy_duration_seconds_bucket{policy="ids",phase="request_head",mode="sync",le="1e-06"}
/// 51
/// ...
/// gantry_policy_duration_seconds_sum{policy="ids",phase="request_head",mode="sync"} 0.0000312
/// gantry_policy_duration_seconds_count{policy="ids",phase="request_head",mode="sync"} 53
/// gantry_policy_sampled_exchanges_total 53
/// ```
///
/// A chain times its policies when one of its policies asks it to (`metrics` with
/// `metrics_config::policy_time_sampling`); `metrics_registry` holds one of these and renders
/// it with its other series. What is measured, per call of a phase (a body phase once per
/// piece): for `sync`, the time from the call to its verdict, all of it on the worker; for
/// `async`, the wall time from the call until the awaitable it returned completed, which
/// includes waiting (I/O, timers) and whatever else the worker ran meanwhile. A series
/// appears once it has counted something.
///
/// **Sharding.** As in `metrics_registry`: shard `i % shards()` is written by one thread at a
/// time only (worker `i`), with relaxed atomic loads and stores, never a locked instruction;
/// `render` reads every shard from any thread. Each (policy, shard) costs one allocation the
/// first time a sampled exchange records it; after that, recording allocates nothing.
class policy_timing {
 public:
  /// Upper bounds of the histogram buckets, in seconds, from 100 ns to 1 s (a last +Inf
  /// bucket follows): policy phases take nanoseconds to microseconds when synchronous,
  /// milliseconds when they wait.
  static constexpr std::array<double, 22> bucket_bounds = {
      1e-7, 2.5e-7, 5e-7,   1e-6, 2.5e-6, 5e-6,   1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4,
      5e-4, 1e-3,   2.5e-3, 5e-3, 1e-2,   2.5e-2, 5e-2, 0.1,    0.25, 0.5,  1};
  /// Distinct policy names one registry keeps apart; beyond them, names share the series
  /// named "other".
  static constexpr std::size_t max_policies = 4096;

  /// Storage with `shards` shards (at least one): give the number of workers.
  explicit policy_timing(std::size_t shards = 1);
  ~policy_timing();
  policy_timing(const policy_timing&) = delete;
  policy_timing& operator=(const policy_timing&) = delete;

  /// Number of shards.
  std::size_t shards() const noexcept;

  /// The slot that `policy_name` records into: the same name always gets the same slot.
  /// Takes a lock: chains call it when they are built, never per exchange.
  std::uint32_t slot(std::string_view policy_name);

  /// Whether the exchange now beginning on `shard` is timed: one in `one_in` per shard (0:
  /// none, 1: all), counted down by the shard's own thread. Reads no clock.
  bool sample(std::size_t shard, std::uint32_t one_in) noexcept;

  /// Records one timed call of `ph` by the policy of `slot` (from `slot`), into `shard`.
  void record(std::size_t shard, std::uint32_t slot, phase ph, phase_mode mode,
              std::chrono::nanoseconds took);

  /// Appends every series, merged across shards, in the Prometheus text format, sorted by
  /// policy name, phase and mode.
  void render(std::string& out) const;

  /// One series' durations, as `keep_durations` kept them.
  struct kept_series {
    std::string policy;
    phase ph = phase::request_head;
    phase_mode mode = phase_mode::sync;
    std::vector<std::chrono::nanoseconds> took;  // in the order recorded
  };
  /// Keeps every duration recorded from now on besides counting it (at most `capacity` per
  /// series), for exact percentiles: `testing::benchmark_chain` reads them. Off by default.
  /// Not for a running gateway: keeping is not sharded, so only one thread may record.
  void keep_durations(std::size_t capacity);
  /// The durations kept, one entry per series that has some, sorted by policy name, phase
  /// and mode.
  std::vector<kept_series> kept() const;

 private:
  class shard;
  std::vector<std::unique_ptr<shard>> shards_;
  mutable std::mutex names_mutex_;
  std::vector<std::unique_ptr<const std::string>> names_;  // by slot
  std::size_t keep_capacity_ = 0;
  std::vector<std::vector<std::chrono::nanoseconds>> kept_;  // by slot, phase and mode
};

/// What a chain needs to time its policies: where to record, and one exchange in how many
/// to time. A policy that wants its chains timed returns it from a const member function
/// `timing_for_chains()` (see `metrics`); `one_in == 0` or no `into` means off.
struct chain_timing {
  std::shared_ptr<policy_timing> into{};
  std::uint32_t one_in = 0;

  /// True when this asks for timing at all.
  bool on() const noexcept { return into != nullptr && one_in != 0; }
};

}  // namespace gantry::policy
