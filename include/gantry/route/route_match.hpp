#pragma once
/// @file
/// Everything a request must look like for a route to be chosen.

#include <string>
#include <vector>

#include "gantry/route/header_matcher.hpp"
#include "gantry/route/method_set.hpp"
#include "gantry/route/path_matcher.hpp"
#include "gantry/route/query_matcher.hpp"

namespace gantry::route {

/// The conditions of one route: host, methods, path, header fields and query parameters.
/// A request matches when it meets all of them.
///
/// ```
/// gantry::route::route_match m{
///     .host = "*.example.com",
///     .methods = {gantry::http::method::get},
///     .path = gantry::route::path_template{"/v2/users/{id}"},
///     .headers = {gantry::route::header_matcher::exact("X-Canary", "1")},
/// };
/// ```
struct route_match {
  /// The host the request is for, without a port, compared case-insensitively:
  /// - "" or "*": any host (the default host);
  /// - "*.example.com": any host ending in ".example.com" with at least one character before
  ///   it, so "api.example.com" and "a.b.example.com" but not "example.com";
  /// - anything else: that host exactly ("api.example.com", "10.0.0.7", "[::1]").
  /// A trailing dot is ignored, here and in the request.
  std::string host{};
  /// The methods accepted; empty accepts every method.
  method_set methods{};
  /// How the path must look; by default every path.
  path_matcher path = path_prefix{"/"};
  /// Conditions on header fields; all must hold.
  std::vector<header_matcher> headers{};
  /// Conditions on query parameters; all must hold.
  std::vector<query_matcher> query{};
};

}  // namespace gantry::route
