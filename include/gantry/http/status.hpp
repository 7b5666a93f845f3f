#pragma once
/// @file
/// HTTP status codes and reason phrases.

#include <cstdint>
#include <string_view>

namespace gantry::http {

/// A response status code. Any value 100..999 is valid on the wire; the named ones are those
/// Gantry produces itself or treats specially.
enum class status : std::uint16_t {
  continue_ = 100,
  switching_protocols = 101,
  ok = 200,
  no_content = 204,
  moved_permanently = 301,
  found = 302,
  not_modified = 304,
  bad_request = 400,
  unauthorized = 401,
  forbidden = 403,
  not_found = 404,
  method_not_allowed = 405,
  request_timeout = 408,
  length_required = 411,
  payload_too_large = 413,
  uri_too_long = 414,
  expectation_failed = 417,
  too_many_requests = 429,
  request_header_fields_too_large = 431,
  internal_server_error = 500,
  not_implemented = 501,
  bad_gateway = 502,
  service_unavailable = 503,
  gateway_timeout = 504,
  http_version_not_supported = 505,
};

/// The standard reason phrase ("Not Found"), or "Unknown" for unregistered codes.
std::string_view reason_phrase(status s) noexcept;

/// True when a response with this status never carries a body (1xx, 204, 304; RFC 9110 6.4.1).
constexpr bool is_bodyless(status s) noexcept {
  auto code = static_cast<unsigned>(s);
  return code < 200 || code == 204 || code == 304;
}

}  // namespace gantry::http
