#pragma once
/// @file
/// HTTP request methods.

#include <cstdint>
#include <string_view>

namespace gantry::http {

/// A request method. The values follow llhttp's numbering so the parser maps them for free;
/// methods only WebDAV, RTSP or UPnP use are listed too because the parser accepts them.
// clang-format off
enum class method : std::uint8_t {
  delete_ = 0, get, head, post, put, connect, options, trace,
  copy, lock, mkcol, move, propfind, proppatch, search, unlock, bind, rebind, unbind, acl,
  report, mkactivity, checkout, merge, msearch, notify, subscribe, unsubscribe, patch, purge,
  mkcalendar, link, unlink, source, pri, describe, announce, setup, play, pause, teardown,
  get_parameter, set_parameter, redirect, record, flush,
};
// clang-format on

/// The method's token as it appears on the request line, e.g. "GET".
std::string_view to_string(method m) noexcept;

/// True for methods whose repetition has the same effect as one request (RFC 9110 9.2.2).
constexpr bool is_idempotent(method m) noexcept {
  switch (m) {
    case method::get:
    case method::head:
    case method::put:
    case method::delete_:
    case method::options:
    case method::trace:
      return true;
    default:
      return false;
  }
}

}  // namespace gantry::http
