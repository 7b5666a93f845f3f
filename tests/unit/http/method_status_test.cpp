#include <doctest/doctest.h>

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "gantry/http/method.hpp"
#include "gantry/http/status.hpp"

using gantry::http::is_bodyless;
using gantry::http::is_idempotent;
using gantry::http::method;
using gantry::http::reason_phrase;
using gantry::http::status;

TEST_CASE("method: to_string gives the request-line token") {
  CHECK(to_string(method::delete_) == "DELETE");
  CHECK(to_string(method::get) == "GET");
  CHECK(to_string(method::head) == "HEAD");
  CHECK(to_string(method::post) == "POST");
  CHECK(to_string(method::put) == "PUT");
  CHECK(to_string(method::connect) == "CONNECT");
  CHECK(to_string(method::options) == "OPTIONS");
  CHECK(to_string(method::trace) == "TRACE");
  CHECK(to_string(method::patch) == "PATCH");
  CHECK(to_string(method::msearch) == "M-SEARCH");
  CHECK(to_string(method::pri) == "PRI");
  CHECK(to_string(method::get_parameter) == "GET_PARAMETER");
  CHECK(to_string(method::flush) == "FLUSH");

  SUBCASE("every method has a distinct upper-case token") {
    std::set<std::string_view> seen;
    for (int i = 0; i <= static_cast<int>(method::flush); ++i) {
      std::string_view token = to_string(static_cast<method>(i));
      CAPTURE(i);
      CHECK(token != "UNKNOWN");
      CHECK_FALSE(token.empty());
      CHECK(seen.insert(token).second);
      for (char c : token) CHECK(((c >= 'A' && c <= 'Z') || c == '-' || c == '_'));
    }
  }
  SUBCASE("values past the last method") {
    CHECK(to_string(static_cast<method>(static_cast<int>(method::flush) + 1)) == "UNKNOWN");
    CHECK(to_string(static_cast<method>(255)) == "UNKNOWN");
  }
}

TEST_CASE("method: idempotent methods (RFC 9110 9.2.2)") {
  for (method m :
       {method::get, method::head, method::put, method::delete_, method::options, method::trace}) {
    CAPTURE(to_string(m));
    CHECK(is_idempotent(m));
  }
  for (method m : {method::post, method::patch, method::connect, method::lock, method::purge}) {
    CAPTURE(to_string(m));
    CHECK_FALSE(is_idempotent(m));
  }
  static_assert(is_idempotent(method::get));
  static_assert(!is_idempotent(method::post));
}

TEST_CASE("status: reason phrases") {
  CHECK(reason_phrase(status::continue_) == "Continue");
  CHECK(reason_phrase(status::switching_protocols) == "Switching Protocols");
  CHECK(reason_phrase(status::ok) == "OK");
  CHECK(reason_phrase(status::no_content) == "No Content");
  CHECK(reason_phrase(status::moved_permanently) == "Moved Permanently");
  CHECK(reason_phrase(status::found) == "Found");
  CHECK(reason_phrase(status::not_modified) == "Not Modified");
  CHECK(reason_phrase(status::bad_request) == "Bad Request");
  CHECK(reason_phrase(status::unauthorized) == "Unauthorized");
  CHECK(reason_phrase(status::forbidden) == "Forbidden");
  CHECK(reason_phrase(status::not_found) == "Not Found");
  CHECK(reason_phrase(status::method_not_allowed) == "Method Not Allowed");
  CHECK(reason_phrase(status::request_timeout) == "Request Timeout");
  CHECK(reason_phrase(status::length_required) == "Length Required");
  CHECK(reason_phrase(status::payload_too_large) == "Content Too Large");
  CHECK(reason_phrase(status::uri_too_long) == "URI Too Long");
  CHECK(reason_phrase(status::expectation_failed) == "Expectation Failed");
  CHECK(reason_phrase(status::too_many_requests) == "Too Many Requests");
  CHECK(reason_phrase(status::request_header_fields_too_large) ==
        "Request Header Fields Too Large");
  CHECK(reason_phrase(status::internal_server_error) == "Internal Server Error");
  CHECK(reason_phrase(status::not_implemented) == "Not Implemented");
  CHECK(reason_phrase(status::bad_gateway) == "Bad Gateway");
  CHECK(reason_phrase(status::service_unavailable) == "Service Unavailable");
  CHECK(reason_phrase(status::gateway_timeout) == "Gateway Timeout");
  CHECK(reason_phrase(status::http_version_not_supported) == "HTTP Version Not Supported");

  SUBCASE("registered codes without a name in the enum") {
    CHECK(reason_phrase(static_cast<status>(201)) == "Created");
    CHECK(reason_phrase(static_cast<status>(307)) == "Temporary Redirect");
    CHECK(reason_phrase(static_cast<status>(308)) == "Permanent Redirect");
    CHECK(reason_phrase(static_cast<status>(422)) == "Unprocessable Content");
  }
  SUBCASE("unregistered codes") {
    for (int code : {0, 99, 199, 299, 418, 599, 999}) {
      CAPTURE(code);
      CHECK(reason_phrase(static_cast<status>(code)) == "Unknown");
    }
  }
}

TEST_CASE("status: which responses never carry a body (RFC 9110 6.4.1)") {
  for (int code : {100, 101, 102, 103, 199, 204, 304}) {
    CAPTURE(code);
    CHECK(is_bodyless(static_cast<status>(code)));
  }
  for (int code : {200, 201, 202, 203, 205, 206, 300, 301, 303, 305, 400, 404, 500, 599}) {
    CAPTURE(code);
    CHECK_FALSE(is_bodyless(static_cast<status>(code)));
  }
  static_assert(is_bodyless(status::no_content));
  static_assert(!is_bodyless(status::ok));
}
