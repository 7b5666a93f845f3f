#include "gantry/policy/clock.hpp"

namespace gantry::policy {
namespace {

class real_clock final : public clock {
 public:
  time_point now() const noexcept override { return std::chrono::steady_clock::now(); }
  system_time system_now() const noexcept override { return std::chrono::system_clock::now(); }
};

}  // namespace

const clock& clock::real() noexcept {
  static const real_clock instance;
  return instance;
}

}  // namespace gantry::policy
