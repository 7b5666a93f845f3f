#include "gantry/policy/header_value.hpp"

#include "gantry/core/ascii.hpp"

namespace gantry::policy {

bool is_framing_field(std::string_view name) noexcept {
  return core::iequals(name, "Content-Length") || core::iequals(name, "Transfer-Encoding");
}

}  // namespace gantry::policy
