#pragma once
/// @file
/// Rewriting the request path before it goes upstream.

#include <string>
#include <string_view>
#include <variant>

#include "gantry/route/captures.hpp"

namespace gantry::route {

/// Removes a leading path prefix, a whole segment at a time: with prefix "/api",
/// "/api/users?x" becomes "/users" (the query is not part of the path), "/api" becomes "/",
/// and "/apis" stays as it is. A trailing '/' in the prefix is ignored.
///
/// On a route whose path matcher is a `path_prefix`, an empty `prefix` means that route's
/// prefix; `route_table::builder` fills it in.
struct strip_prefix {
  /// The prefix to remove, starting with '/'; empty for the route's own prefix.
  std::string prefix{};
};

/// Replaces the whole path with a template filled from the captured parameters:
/// `template_rewrite{"/v2/users/{id}"}` on a route "/users/{id}" sends "/users/7" as
/// "/v2/users/7"; `{*rest}` or `{rest}` inserts a catch-all. `route_table::builder` rejects
/// names the route does not capture.
struct template_rewrite {
  /// The new path, starting with '/', with `{name}` placeholders.
  std::string pattern{};
};

/// How a route rewrites the path it forwards.
using path_rewrite = std::variant<strip_prefix, template_rewrite>;

/// Writes the rewritten form of `path` (without query) into `out`, which is cleared first and
/// keeps its capacity, so a reused string stops allocating. The caller appends the query.
///
/// ```
/// std::string upstream_path;   // reused across requests
/// gantry::route::rewrite_path(*r->rewrite, request.path, params, upstream_path);
/// ```
void rewrite_path(const path_rewrite& rewrite, std::string_view path, const captures& values,
                  std::string& out);

}  // namespace gantry::route
