#include "gantry/policy/header_value.hpp"

#include "gantry/core/ascii.hpp"

namespace gantry::policy {

bool is_field_name(std::string_view name) noexcept { return core::is_token(name); }

bool is_safe_field_value(std::string_view value) noexcept {
  // A plain loop: find_first_of searches the three bytes once per character.
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

bool is_framing_field(std::string_view name) noexcept {
  return core::iequals(name, "Content-Length") || core::iequals(name, "Transfer-Encoding");
}

}  // namespace gantry::policy
