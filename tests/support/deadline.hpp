#pragma once
/// @file
/// Deadlines for integration tests: every blocking helper takes one, so no test can hang.

#include <chrono>
#include <thread>

namespace gantry::testing {

using clock = std::chrono::steady_clock;
/// The moment a blocking operation gives up.
using deadline = clock::time_point;

/// A deadline `d` from now, e.g. `after(std::chrono::seconds{5})`.
inline deadline after(clock::duration d) { return clock::now() + d; }

/// Time left until `d`, never negative.
inline clock::duration remaining(deadline d) {
  auto left = d - clock::now();
  return left > clock::duration::zero() ? left : clock::duration::zero();
}

/// Milliseconds left until `d` as an int for poll(2), rounded up so that a non-zero
/// remainder never turns into a busy zero timeout.
inline int remaining_ms(deadline d) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(remaining(d)).count();
  return left > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left);
}

/// Polls `condition` until it holds or `d` passes; returns its last value. For states only
/// visible from outside (a process's fd count, a file another process appends to), where no
/// event tells us the state changed. Not a substitute for waiting on an event we can see.
template <class Condition>
bool eventually(Condition&& condition, deadline d,
                clock::duration interval = std::chrono::milliseconds{5}) {
  for (;;) {
    if (condition()) return true;
    if (clock::now() >= d) return condition();
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace gantry::testing
