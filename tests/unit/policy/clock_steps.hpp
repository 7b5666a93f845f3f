#pragma once
// A test policy that moves a fake clock while a chain runs, so that an exchange's timings
// (response head, end) come out exact.

#include <chrono>

#include "gantry/policy/exchange.hpp"
#include "gantry/policy/verdict.hpp"
#include "gantry/testing/fake_clock.hpp"

namespace clock_kit {

// Put it first in a chain run by gantry::testing::run: the upstream's (or a local) response
// head then comes `to_head` after the start, and the end `to_head + to_end` after it.
struct clock_steps {
  gantry::testing::fake_clock* clock = nullptr;
  std::chrono::microseconds to_head{0};
  std::chrono::microseconds to_end{0};

  gantry::policy::verdict on_request_head(gantry::policy::exchange&) const {
    clock->advance(to_head);
    return gantry::policy::verdict::continue_;
  }
  gantry::policy::verdict on_response_head(gantry::policy::exchange&) const {
    clock->advance(to_end);
    return gantry::policy::verdict::continue_;
  }
};

}  // namespace clock_kit
