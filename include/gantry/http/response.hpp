#pragma once
/// @file
/// The head of an HTTP response: status line and header fields.

#include <string>

#include "gantry/http/headers.hpp"
#include "gantry/http/status.hpp"
#include "gantry/http/version.hpp"

namespace gantry::http {

/// A response head. The body is not part of it: bodies stream through separately.
struct response {
  http::status status = http::status::ok;
  /// The reason phrase received; empty means "use the standard phrase" when serializing.
  std::string reason;
  http::version version = http_1_1;
  http::headers fields;

  response() = default;
  explicit response(http::status s) : status{s} {}

  void clear() noexcept {
    status = http::status::ok;
    reason.clear();
    version = http_1_1;
    fields.clear();
  }
};

}  // namespace gantry::http
