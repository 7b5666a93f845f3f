#pragma once
/// @file
/// A header field to add or set, as policies are configured with it, and the checks that keep
/// configured and computed fields well-formed.

#include "gantry/http/field_syntax.hpp"

#include <string>
#include <string_view>

namespace gantry::policy {

/// A header field in a policy's configuration: a name and a value (which some policies treat
/// as a template, see `headers`).
struct header_value {
  std::string name{};
  std::string value{};
};

// The field checks belong to the HTTP layer; policies name them here too.
using http::is_field_name;
using http::is_safe_field_value;

/// True for the fields that frame a message (Content-Length, Transfer-Encoding): the gateway
/// computes them, so policies may not add, set, rename or remove them.
bool is_framing_field(std::string_view name) noexcept;

}  // namespace gantry::policy
