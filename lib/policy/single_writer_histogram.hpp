#pragma once
// Counters and histograms that one thread writes and any thread reads: per-worker metrics
// shards, merged when they are rendered.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace gantry::policy::detail {

// Adds to a counter that only one thread writes: a plain load and store, no locked
// instruction, still a whole value for a concurrent reader.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

inline std::uint64_t read(const std::atomic<std::uint64_t>& counter) noexcept {
  return counter.load(std::memory_order_relaxed);
}

// Durations in buckets bounded by `bounds` (seconds, ascending) plus +Inf, and their sum.
template <const auto& bounds>
struct single_writer_histogram {
  static constexpr std::size_t bucket_count = bounds.size() + 1;
  // The bounds in nanoseconds, so that observing compares integers.
  static constexpr auto bounds_ns = [] {
    std::array<std::int64_t, bounds.size()> ns{};
    for (std::size_t i = 0; i < ns.size(); ++i)
      ns[i] = static_cast<std::int64_t>(bounds[i] * 1e9 + 0.5);
    return ns;
  }();

  std::array<std::atomic<std::uint64_t>, bucket_count> buckets{};  // not cumulative
  std::atomic<std::uint64_t> sum_ns{0};

  void observe(std::chrono::nanoseconds d) noexcept {
    const std::int64_t ns = std::max<std::int64_t>(d.count(), 0);
    const auto at = std::lower_bound(bounds_ns.begin(), bounds_ns.end(), ns);
    bump(buckets[static_cast<std::size_t>(at - bounds_ns.begin())], 1);
    bump(sum_ns, static_cast<std::uint64_t>(ns));
  }
};

}  // namespace gantry::policy::detail
