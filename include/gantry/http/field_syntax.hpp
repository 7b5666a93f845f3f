#pragma once
/// @file
/// What a header field must be to be written as it is: the checks that keep fields computed
/// or edited by policies from ending a field or a head early.

#include <string_view>

#include "gantry/core/ascii.hpp"

namespace gantry::http {

/// True when `name` is a valid field name: a non-empty RFC 9110 token.
constexpr bool is_field_name(std::string_view name) noexcept { return core::is_token(name); }

/// True when `value` holds no CR, LF or NUL, the bytes that would let a value end its field
/// or the head early (header injection, response splitting).
constexpr bool is_safe_field_value(std::string_view value) noexcept {
  // No early exit and unsigned bytes: GCC vectorises this form (16 bytes a step), and bad
  // values are rare.
  unsigned char unsafe = 0;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    unsafe |=
        static_cast<unsigned char>((c == '\r' ? 1 : 0) | (c == '\n' ? 1 : 0) | (c == 0 ? 1 : 0));
  }
  return unsafe == 0;
}

/// True when the field `name: value` can be written as it is.
constexpr bool is_writable_field(std::string_view name, std::string_view value) noexcept {
  return is_field_name(name) && is_safe_field_value(value);
}

}  // namespace gantry::http
