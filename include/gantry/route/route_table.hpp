#pragma once
/// @file
/// The compiled set of routes a request is matched against.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "gantry/route/captures.hpp"
#include "gantry/route/request_view.hpp"
#include "gantry/route/route.hpp"

namespace gantry::route {

namespace detail {
struct compiled_table;
}  // namespace detail

/// An immutable, compiled set of routes. Build it once per configuration snapshot with
/// `route_table::builder`; match any number of requests against it, from any number of
/// threads at once.
///
/// ## Precedence
///
/// The route chosen is the first one found in this order; the same request always gets the
/// same route:
///
/// 1. **Host.** Routes for the request's exact host are tried first, then wildcard hosts from
///    the longest suffix to the shortest ("*.api.example.com" before "*.example.com"), then
///    routes for any host. A host that has routes but none that fits the request falls through
///    to the next: a route for any host is still reachable on "api.example.com".
/// 2. **Path**, within one host:
///    1. exact paths (and templates without parameters);
///    2. templates, compared segment by segment from the left: at the first segment where
///       they differ, a literal beats a `{param}`, which beats a `{*rest}`
///       ("/users/me/{x}" beats "/users/{id}/posts" for "/users/me/posts");
///    3. prefixes, the longest (most segments) first;
///    4. regular expressions, in declared order.
/// 3. **Declared order** among routes with the same host and the same path pattern: they are
///    told apart by their methods, header and query conditions, and the first declared whose
///    conditions all hold wins. When a candidate's conditions fail, matching continues with
///    the next candidate in this order.
///
/// ## What the builder rejects
///
/// `build()` throws `std::invalid_argument` listing every problem at once, one per line,
/// naming the route (by name, or as "#n" counting from 1 when unnamed); a line break or a NUL
/// that a problem quotes from a route (from a pattern, a host or a name) is written as
/// `\x0a`, `\x0d` or `\x00`, so that each problem stays on its line:
/// - a malformed host, path pattern or RE2 expression, and the reason (templates and
///   prefixes have at most 128 segments, which bounds the stack a match uses);
/// - two routes with the same host, the same path pattern (template parameter names aside),
///   the same method set and the same header and query conditions; both are named;
/// - a route that can never be chosen because one declared before it, with the same host and
///   path pattern, accepts every request it would (a superset of its methods, a subset of
///   its conditions); both are named;
/// - duplicate route names; an empty cluster name; a split with no clusters or zero total
///   weight; a redirect status other than 301/302/303/307/308; a direct response status
///   outside 200..599; a non-positive timeout; a rewrite or redirect template naming a
///   parameter the route does not capture; `strip_prefix{}` without a prefix on a route
///   that is not a prefix route.
///
/// ## Cost
///
/// Each host's routes are compiled into a hash map of exact paths and segment tries for
/// templates and prefixes; a node finds its child by hashing the segment, or by scanning
/// when it has at most 8 children. A match costs about one lookup per path segment, whatever
/// the number of non-regex routes (about 140 ns at 10 000 routes, benchmarks/RESULTS.md);
/// regex routes are tried one after the other. Matching does not allocate (RE2 may, inside
/// its own caches, and takes a shared lock on them: build one table per worker if many
/// requests reach regex routes).
///
/// ```
/// using namespace gantry::route;
/// route_table::builder b;
/// b.add(route{.name = "user", .match = {.path = path_template{"/users/{id}"}},
///             .action = proxy{"users"}});
/// b.add(route{.name = "static", .match = {.path = path_prefix{"/static"}},
///             .action = proxy{"cdn"}});
/// route_table table = std::move(b).build();
///
/// captures params;
/// const route* r = table.match(request_view::from(request), params);
/// if (!r) { /* 404 */ }
/// ```
class route_table {
 public:
  class builder;

  /// A table without routes; it matches nothing.
  route_table() noexcept = default;

  /// The route for `req`, or null when none matches (404). `out` is cleared, then receives the
  /// parameters the chosen route captured; its views point into this table and `req.path`.
  const route* match(const request_view& req, captures& out) const noexcept;

  /// Every route, in declared order; `match` returns pointers into this span.
  std::span<const route> routes() const noexcept;
  /// The number of routes.
  std::size_t size() const noexcept { return routes().size(); }
  /// True when the table has no routes.
  bool empty() const noexcept { return size() == 0; }

 private:
  explicit route_table(std::shared_ptr<const detail::compiled_table> c) noexcept
      : compiled_{std::move(c)} {}
  // Shared, because a table is immutable: copies are cheap and keep each other alive, so a
  // snapshot can hand the same table to every worker.
  std::shared_ptr<const detail::compiled_table> compiled_;
};

/// Collects routes in declared order, then validates and compiles them into a `route_table`.
class route_table::builder {
 public:
  /// Appends a route; declared order is the order of `add` calls.
  builder& add(route r);
  /// Validates every route and compiles the table, or throws `std::invalid_argument` listing
  /// every problem (see `route_table`). The builder is consumed.
  route_table build() &&;

 private:
  std::vector<route> routes_;
};

}  // namespace gantry::route
