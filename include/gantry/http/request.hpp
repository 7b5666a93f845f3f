#pragma once
/// @file
/// The head of an HTTP request: request line and header fields.

#include <string>

#include "gantry/http/headers.hpp"
#include "gantry/http/method.hpp"
#include "gantry/http/version.hpp"

namespace gantry::http {

/// A request head. The body is not part of it: bodies stream through separately.
///
/// ```
/// gantry::http::request req{gantry::http::method::get, "/v2/users/7"};
/// req.fields.add("Host", "api.example.com");
/// ```
struct request {
  http::method method = http::method::get;
  /// The request target as sent: origin-form ("/a?b"), absolute-form, authority or "*".
  std::string target;
  http::version version = http_1_1;
  http::headers fields;

  request() = default;
  request(http::method m, std::string t) : method{m}, target{std::move(t)} {}

  /// Empties the head for reuse, keeping its buffers.
  void clear() noexcept {
    method = http::method::get;
    target.clear();
    version = http_1_1;
    fields.clear();
  }
};

}  // namespace gantry::http
