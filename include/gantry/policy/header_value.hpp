#pragma once
/// @file
/// A header field to add or set, as policies are configured with it, and the checks that keep
/// configured and computed fields well-formed.

#include <string>
#include <string_view>

namespace gantry::policy {

/// A header field in a policy's configuration: a name and a value (which some policies treat
/// as a template, see `headers`).
struct header_value {
  std::string name{};
  std::string value{};
};

/// True when `name` is a valid field name: a non-empty RFC 9110 token.
bool is_field_name(std::string_view name) noexcept;

/// True when `value` holds no CR, LF or NUL, the bytes that would let a value end its field
/// or the head early (header injection, response splitting).
bool is_safe_field_value(std::string_view value) noexcept;

/// True for the fields that frame a message (Content-Length, Transfer-Encoding): the gateway
/// computes them, so policies may not add, set, rename or remove them.
bool is_framing_field(std::string_view name) noexcept;

}  // namespace gantry::policy
