#include "gantry/core/coarse_clock.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using gantry::core::coarse_clock;
using namespace std::chrono_literals;

TEST_CASE("coarse_clock keeps time with steady_clock, a kernel tick behind at most") {
  const auto coarse_start = coarse_clock::now();
  const auto steady_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(50ms);
  const auto coarse_elapsed = coarse_clock::now() - coarse_start;
  const auto steady_elapsed = std::chrono::steady_clock::now() - steady_start;
  CHECK(coarse_elapsed > 0ns);
  // Each reading lags by less than a tick (4 ms at 250 Hz): the two agree within two ticks.
  const auto difference = coarse_elapsed > steady_elapsed ? coarse_elapsed - steady_elapsed
                                                          : steady_elapsed - coarse_elapsed;
  CHECK(difference < 10ms);
  // And it never runs backwards.
  bool monotonic = true;
  auto previous = coarse_clock::now();
  for (int i = 0; i < 100'000; ++i) {
    const auto t = coarse_clock::now();
    monotonic = monotonic && t >= previous;
    previous = t;
  }
  CHECK(monotonic);
}
