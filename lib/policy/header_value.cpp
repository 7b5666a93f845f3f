#include "gantry/policy/header_value.hpp"

#include "gantry/core/ascii.hpp"

namespace gantry::policy {
namespace {

constexpr bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool is_field_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char c : name)
    if (!is_tchar(c)) return false;
  return true;
}

bool is_safe_field_value(std::string_view value) noexcept {
  return value.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}

bool is_framing_field(std::string_view name) noexcept {
  return core::iequals(name, "Content-Length") || core::iequals(name, "Transfer-Encoding");
}

}  // namespace gantry::policy
