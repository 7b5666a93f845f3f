#pragma once
/// @file
/// Errors of the HTTP codec, as `std::error_code`s.

#include <system_error>

#include "gantry/http/status.hpp"

namespace gantry::http {

/// Why a message could not be parsed.
enum class errc {
  /// Malformed syntax or framing (RFC 9112): bad request line, bad field, bad chunk.
  bad_message = 1,
  /// The request target exceeds `parser_limits::max_target_length`.
  target_too_long,
  /// The header section (or trailer section) exceeds its byte limit.
  header_section_too_large,
  /// More header fields than `parser_limits::max_field_count`.
  too_many_fields,
  /// The body exceeds `parser_limits::max_body_size`.
  body_too_large,
  /// The peer closed the connection in the middle of a message.
  partial_message,
  /// An HTTP version other than 1.0 or 1.1.
  unsupported_version,
  /// A well-formed method (a token) that Gantry does not know, such as `BREW`.
  unknown_method,
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

/// The status a server answers a request with when parsing fails with `e`:
/// 400, 414, 431, 413, 501 or 505.
status status_for(errc e) noexcept;

}  // namespace gantry::http

template <>
struct std::is_error_code_enum<gantry::http::errc> : std::true_type {};
