#pragma once
/// @file
/// What a route does with a request it matched.

#include <string>
#include <variant>

#include "gantry/http/headers.hpp"
#include "gantry/http/status.hpp"
#include "gantry/route/weighted_split.hpp"

namespace gantry::route {

/// Forwards the request to one cluster.
struct proxy {
  /// The cluster's name.
  std::string cluster{};
};

/// Answers with a redirect and does not contact any upstream.
struct redirect {
  /// 301, 302, 303, 307 or 308.
  http::status status = http::status::found;
  /// The Location value, a template whose `{name}` placeholders are filled from the captured
  /// parameters with `expand_captures`: "https://new.example.com/users/{id}".
  std::string location{};
};

/// Answers with a fixed response and does not contact any upstream.
struct direct_response {
  /// The status, 200..599.
  http::status status = http::status::ok;
  /// Header fields to send, in order. Framing fields (Content-Length) are the server's job.
  http::headers headers{};
  /// The body, sent as it is.
  std::string body{};
};

/// A route's action: one of proxy, weighted split, redirect or direct response.
///
/// ```
/// gantry::route::route_action a = gantry::route::proxy{"users"};
/// if (auto* p = std::get_if<gantry::route::proxy>(&a)) use(p->cluster);
/// ```
using route_action = std::variant<proxy, weighted_split, redirect, direct_response>;

}  // namespace gantry::route
