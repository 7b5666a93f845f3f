#pragma once
// The clock of an exchange that no policy sees: nothing reads its timings, and reading the
// real clock three times per exchange is not free (40-60 ns each on a VM's TSC).

#include "gantry/policy/clock.hpp"

namespace gantry::detail {

class unobserved_clock final : public policy::clock {
 public:
  time_point now() const noexcept override { return {}; }
  system_time system_now() const noexcept override { return {}; }
};
inline const unobserved_clock unobserved;

}  // namespace gantry::detail
