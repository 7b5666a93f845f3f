#pragma once
/// @file
/// How a route matches the request path: exactly, by prefix, by template or by regex.

#include <string>
#include <variant>

namespace gantry::route {

/// Matches one path exactly, byte for byte and case-sensitively: `path_exact{"/healthz"}`
/// matches "/healthz" only, not "/healthz/" nor "/Healthz".
struct path_exact {
  /// The path, starting with '/'.
  std::string path{};
};

/// Matches a path and everything below it, a whole segment at a time:
/// `path_prefix{"/api"}` matches "/api", "/api/" and "/api/users/7", but not "/apis".
/// A trailing '/' in the prefix is ignored ("/api/" is the same prefix as "/api"), and
/// `path_prefix{"/"}` matches every path that starts with '/'.
struct path_prefix {
  /// The prefix, starting with '/'.
  std::string prefix{};
};

/// Matches a path segment by segment against a pattern such as "/v2/users/{id}/posts".
///
/// - A literal segment matches itself exactly.
/// - A `{name}` segment matches any one non-empty segment and captures it under `name`.
/// - A final `{*name}` segment matches the rest of the path, slashes included and possibly
///   empty, and captures it: "/files/{*path}" matches "/files/", "/files/a/b.txt", but not
///   "/files".
///
/// A parameter is always a whole segment ("{id}.json" is rejected), names are identifiers
/// (`[A-Za-z_][A-Za-z0-9_]*`) and unique in the pattern, and at most `captures::capacity`
/// parameters fit one pattern. A pattern without parameters is treated as `path_exact`.
/// Captured values are views into the request path, as received (still percent-encoded).
struct path_template {
  /// The pattern, starting with '/'.
  std::string pattern{};
};

/// Matches when an RE2 regular expression matches the whole path (it is anchored at both
/// ends whether or not it starts with '^' or ends with '$'). RE2 runs in time linear in the
/// path's length, so no pattern can make matching blow up. Named groups (`(?P<id>[0-9]+)`)
/// are captured like template parameters; unmatched optional groups are left out.
struct path_regex {
  /// The RE2 pattern, e.g. "/v[0-9]+/users/(?P<id>[0-9]+)".
  std::string pattern{};
};

/// One of the four ways to match a path. See `route_table` for how they rank.
using path_matcher = std::variant<path_exact, path_prefix, path_template, path_regex>;

}  // namespace gantry::route
