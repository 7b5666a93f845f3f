#pragma once
/// @file
/// Why an exchange could not be carried to its end, and what the client is told.

#include <optional>
#include <system_error>
#include <type_traits>

#include "gantry/http/status.hpp"

namespace gantry {

/// The failures of the proxy flow, as `std::error_code`s: the access log and metrics see
/// them, and `status_for` turns each into the one answer the client gets.
enum class proxy_errc {
  /// Connecting to the upstream failed (refused, unreachable): 502.
  upstream_unreachable = 1,
  /// The upstream closed or reset the connection, or a write to it failed, before the
  /// response was complete: 502 (a closed client connection once the response is under way).
  upstream_failed,
  /// A malformed or oversized response head, or a switch of protocols nobody asked for: 502.
  bad_upstream_response,
  /// Connecting, writing to, or waiting for the upstream took longer than its timeout (or
  /// the route's): 504.
  upstream_timed_out,
  /// The client went silent past `body_timeout` while sending its body: 408.
  client_timed_out,
  /// The client closed or reset its connection: there is no one to answer.
  client_gone,
  /// No upstream to send the request to: a route's `pick_upstream` chose a cluster or an
  /// endpoint the configuration does not have: 503.
  no_upstream,
};

const std::error_category& proxy_category() noexcept;

inline std::error_code make_error_code(proxy_errc e) noexcept {
  return {static_cast<int>(e), proxy_category()};
}

/// The answer a client gets for a failed exchange: `proxy_errc` as documented there, an HTTP
/// codec error (`http::errc`, a malformed or oversized request body) as `http::status_for`
/// says, and 502 for the TLS layer's errors (a failed handshake with the upstream: its
/// certificate was rejected, it refused ours, it spoke no TLS). nullopt when there is no one
/// to answer (`client_gone`), or for an error of another category.
std::optional<http::status> status_for(const std::error_code& ec) noexcept;

}  // namespace gantry

template <>
struct std::is_error_code_enum<gantry::proxy_errc> : std::true_type {};
