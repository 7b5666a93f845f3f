#pragma once
/// @file
/// A monotonic clock that costs next to nothing to read, at the kernel tick's resolution.

#include <time.h>

#include <chrono>

namespace gantry::core {

/// `CLOCK_MONOTONIC_COARSE`: the time of the kernel's last tick (1 to 4 ms behind at most),
/// read from memory the kernel shares, without a timestamp-counter read. The gateway reads a
/// clock several times per exchange to arm timeouts counted in seconds; this one is fine
/// for that and too coarse for timing requests (`policy::clock` does that).
struct coarse_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<coarse_clock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point{std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec}};
  }
};

}  // namespace gantry::core
