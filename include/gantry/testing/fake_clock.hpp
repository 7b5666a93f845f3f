#pragma once
/// @file
/// A clock that stands still until a test moves it.

#include <chrono>

#include "gantry/policy/clock.hpp"

namespace gantry::testing {

/// A `policy::clock` whose time only changes when the test says so: inject it into an
/// exchange (`exchange_builder::clock`) and rate limits, timeouts and timings become exact.
///
/// ```
/// gantry::testing::fake_clock clock;
/// auto ex = gantry::testing::exchange_builder{}.clock(clock).build();
/// clock.advance(std::chrono::milliseconds{250});
/// ```
///
/// Not thread-safe: tests drive it from one thread.
class fake_clock final : public policy::clock {
 public:
  /// Starts at one hour past the steady epoch (so no reading is the zero "unset" value), and
  /// at 2024-01-01T00:00:00Z on the wall clock.
  fake_clock() = default;
  /// Starts at `start`.
  explicit fake_clock(time_point start) noexcept : now_{start} {}

  time_point now() const noexcept override { return now_; }
  system_time system_now() const noexcept override { return wall_start_ + (now_ - start_); }

  /// Moves both clocks forward by `d`, in any unit.
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) noexcept {
    now_ += std::chrono::duration_cast<duration>(d);
  }
  /// Jumps to `t` (monotonic time; the wall clock follows).
  void set(time_point t) noexcept { now_ = t; }

 private:
  time_point start_{std::chrono::hours{1}};
  time_point now_ = start_;
  system_time wall_start_{std::chrono::seconds{1704067200}};
};

}  // namespace gantry::testing
