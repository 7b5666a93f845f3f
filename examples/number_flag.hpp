#pragma once
// The value of a numeric command-line flag, shared by the example programs.

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace gantry_examples {

// `text` as a whole unsigned number; otherwise an error naming `flag`.
inline std::uint64_t parse_number(std::string_view flag, std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw std::invalid_argument(fmt::format("{} expects a number, got '{}'", flag, text));
  return value;
}

}  // namespace gantry_examples
