#pragma once
/// @file
/// Checking a request's Host field and bringing its target into the form a gateway forwards.

#include <string_view>

#include "gantry/http/request.hpp"

namespace gantry::http {

/// True when `host` is a valid Host field value (RFC 9110 7.2): uri-host [ ":" port ], where
/// uri-host is a reg-name (unreserved, pct-encoded and sub-delims characters, possibly
/// empty), an IPv4 address or a bracketed IPv6 literal, and port is digits. No userinfo, no
/// path, no whitespace; a Host that is not one lets routing and the upstream disagree about
/// which site a request is for.
///
/// ```
/// gantry::http::is_valid_host("api.example.com:8080");  // true
/// gantry::http::is_valid_host("a b");                   // false
/// ```
bool is_valid_host(std::string_view host) noexcept;

/// Brings `req`'s target into origin-form, the form a gateway forwards (RFC 9112 3.2):
/// an absolute-form target ("http://example.com/a?b") becomes "/a?b" and its authority
/// replaces the Host field, which it overrides (RFC 9112 3.2.2). An origin-form target, and
/// "*" for OPTIONS, stay as they are.
///
/// Returns false, leaving `req` as it was, when the target is none of these: not "http" or
/// "https", an empty host or userinfo in the authority (RFC 9110 4.2), an invalid authority,
/// or a target that does not start with "/". The request is then a 400.
bool to_origin_form(request& req);

}  // namespace gantry::http
