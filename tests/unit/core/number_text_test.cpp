#include "gantry/core/number_text.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

using gantry::core::number_digits;
using gantry::core::number_text;

TEST_CASE("number_text writes a number's digits in base 10 or 16") {
  number_digits digits;
  CHECK(number_text(0, digits) == "0");
  CHECK(number_text(413, digits) == "413");
  CHECK(number_text(std::numeric_limits<std::uint64_t>::max(), digits) == "18446744073709551615");
  CHECK(number_text(0, digits, 16) == "0");
  CHECK(number_text(0x1f40, digits, 16) == "1f40");
  CHECK(number_text(std::numeric_limits<std::uint64_t>::max(), digits, 16) == "ffffffffffffffff");
}
