#include "gantry/policy/header_value.hpp"

#include "gantry/core/ascii.hpp"

namespace gantry::policy {

bool is_field_name(std::string_view name) noexcept { return core::is_token(name); }

bool is_safe_field_value(std::string_view value) noexcept {
  return value.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}

bool is_framing_field(std::string_view name) noexcept {
  return core::iequals(name, "Content-Length") || core::iequals(name, "Transfer-Encoding");
}

}  // namespace gantry::policy
