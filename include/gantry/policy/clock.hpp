#pragma once
/// @file
/// An injectable source of time, so that timings, rate limits and timeouts are testable.

#include <chrono>

namespace gantry::policy {

/// Where an exchange, and the policies that look at time, read the current time. The real
/// one is `clock::real()`; tests inject `gantry::testing::fake_clock` and advance it by hand.
///
/// ```
/// auto started = ex.clock().now();
/// ```
class clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  /// A monotonic instant, for durations and deadlines.
  using time_point = std::chrono::steady_clock::time_point;
  /// A wall-clock instant, for timestamps that people read (access logs).
  using system_time = std::chrono::system_clock::time_point;

  /// Monotonic time now.
  virtual time_point now() const noexcept = 0;
  /// Wall-clock time now.
  virtual system_time system_now() const noexcept = 0;

  /// The process's real clocks: `std::chrono::steady_clock` and `system_clock`.
  static const clock& real() noexcept;

 protected:
  clock() = default;
  clock(const clock&) = default;
  clock& operator=(const clock&) = default;
  ~clock() = default;
};

}  // namespace gantry::policy
