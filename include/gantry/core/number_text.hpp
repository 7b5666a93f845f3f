#pragma once
/// @file
/// A number's digits written into a caller's array: heads carry numbers (status codes,
/// Content-Length, chunk sizes) in every proxied message, so no string is made for them.

#include <charconv>
#include <cstdint>
#include <string_view>

namespace gantry::core {

/// Room for the digits of any `std::uint64_t` in base 10 (20) or 16 (16).
using number_digits = char[24];

/// The digits of `n` in `base` (10 or 16, lower case), written into `digits`.
inline std::string_view number_text(std::uint64_t n, number_digits& digits,
                                    int base = 10) noexcept {
  const char* end = std::to_chars(digits, digits + sizeof digits, n, base).ptr;
  return {digits, static_cast<std::size_t>(end - digits)};
}

}  // namespace gantry::core
