#pragma once
/// @file
/// What a route does with a request it matched.

#include <cstddef>
#include <functional>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "gantry/http/headers.hpp"
#include "gantry/http/status.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/route/weighted_split.hpp"

namespace gantry::route {

/// Forwards the request to one cluster.
struct proxy {
  /// The cluster's name.
  std::string cluster{};
};

/// Answers with a redirect and does not contact any upstream.
struct redirect {
  /// 301, 302, 303, 307 or 308.
  http::status status = http::status::found;
  /// The Location value, a template whose `{name}` placeholders are filled from the captured
  /// parameters with `expand_captures`: "https://new.example.com/users/{id}".
  std::string location{};
  /// Instead of `location`: the request's own host and target over HTTPS, on `https_port`
  /// (left out of the URL when 443). What a plain-HTTP address answers to move its clients
  /// to the TLS one.
  bool to_https = false;
  std::uint16_t https_port = 443;
};

/// Answers with a fixed response and does not contact any upstream.
struct direct_response {
  /// The status, 200..599.
  http::status status = http::status::ok;
  /// Header fields to send, in order. Framing fields (Content-Length) are the server's job.
  http::headers headers{};
  /// The body, sent as it is.
  std::string body{};
};

/// Where a `pick_upstream` action sends one request.
struct upstream_choice {
  /// A cluster the configuration declares, by name. It must view data that outlives the
  /// call (the host's own table, the configuration), not a temporary.
  std::string_view cluster{};
  /// One endpoint of that cluster, by its index in `cluster_config::endpoints`; empty lets
  /// the cluster's balancer pick.
  std::optional<std::size_t> endpoint{};
};

/// Picks the upstream in code, per request, the way Pingora's `upstream_peer` does: a host
/// routes by its own data (a tenant table, a shard map) without a route per destination.
///
/// ```
/// route.action = gantry::route::pick_upstream{[&shards](const gantry::policy::exchange& ex) {
///   return gantry::route::upstream_choice{.cluster = shards.for_tenant(ex.consumer)};
/// }};
/// ```
///
/// `pick` runs on the worker's thread after the request head phase, on the exchange as the
/// policies left it (params, consumer, downstream facts): it must not block, and it is
/// called from every worker at once, so what it reads must be immutable or thread-safe. A
/// choice naming no declared cluster, or an endpoint the cluster does not have, gets the
/// client a 503. The route's rewrites apply as for `proxy`.
struct pick_upstream {
  std::function<upstream_choice(const policy::exchange&)> pick{};
};

/// A route's action: one of proxy, weighted split, redirect, direct response or an upstream
/// picked in code.
///
/// ```
/// gantry::route::route_action a = gantry::route::proxy{"users"};
/// if (auto* p = std::get_if<gantry::route::proxy>(&a)) use(p->cluster);
/// ```
using route_action =
    std::variant<proxy, weighted_split, redirect, direct_response, pick_upstream>;

}  // namespace gantry::route
