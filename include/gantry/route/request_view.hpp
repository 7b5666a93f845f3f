#pragma once
/// @file
/// The parts of a request that routing looks at.

#include <string_view>

#include "gantry/http/headers.hpp"
#include "gantry/http/method.hpp"
#include "gantry/http/request.hpp"

namespace gantry::route {

/// The routing inputs of one request, as views: nothing is copied and nothing is owned.
///
/// ```
/// gantry::route::request_view req{.host = "api.example.com",
///                                 .method = gantry::http::method::get,
///                                 .path = "/v2/users/7",
///                                 .query = "expand=1",
///                                 .headers = &request.fields};
/// ```
struct request_view {
  /// The host the request is for, without port ("api.example.com", "[::1]"); any case.
  std::string_view host{};
  /// The request method.
  http::method method = http::method::get;
  /// The path, without the query, as received (not percent-decoded): "/v2/users/7".
  std::string_view path{};
  /// The query string without the '?': "expand=1&debug"; empty when there is none.
  std::string_view query{};
  /// The header fields; null means the request has none.
  const http::headers* headers = nullptr;

  /// The view of a parsed request head: path and query split from the target; the host from
  /// an absolute-form target if there is one, otherwise from the Host field, in both cases
  /// without the port. The result points into `req`.
  static request_view from(const http::request& req) noexcept;
};

}  // namespace gantry::route
