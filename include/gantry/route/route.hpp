#pragma once
/// @file
/// One route: its name, what it matches and what it does.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "gantry/policy/chain.hpp"
#include "gantry/route/action.hpp"
#include "gantry/route/path_rewrite.hpp"
#include "gantry/route/route_match.hpp"

namespace gantry::route {

/// A route as written in configuration: plain data, so it reads the same built in C++ or
/// loaded from YAML. `route_table::builder` validates it.
///
/// Its policies come two ways: by name (`policies`, entries of `gateway_config::policies`
/// shared by many routes, as YAML writes them) and as objects of its own (`chain`, built in
/// C++ for this route alone). A gateway runs, on each exchange of the route, the listener's
/// policies, then the named ones, then the route's own chain.
///
/// ```
/// gantry::route::route users{
///     .name = "users",
///     .match = {.host = "api.example.com",
///               .methods = {gantry::http::method::get},
///               .path = gantry::route::path_template{"/users/{id}"}},
///     .action = gantry::route::proxy{"users-v2"},
///     .rewrite = gantry::route::template_rewrite{"/v2/users/{id}"},
///     .timeout = std::chrono::milliseconds{1500},
///     .policies = {"key-auth", "rate-limit"},
///     .chain = gantry::policy::chain{}.add(require_header{"X-Tenant"}),
/// };
/// ```
struct route {
  /// The route's name, used in logs, metrics and error messages; unique within a table when
  /// not empty.
  std::string name{};
  /// Free-form labels (team, API product, ...), carried for policies and reporting.
  std::vector<std::string> tags{};
  /// What a request must look like.
  route_match match{};
  /// What to do with a matching request.
  route_action action{};
  /// How to rewrite the path before forwarding, if at all.
  std::optional<path_rewrite> rewrite{};
  /// The Host to send upstream instead of the client's; empty keeps the client's.
  std::string host_rewrite{};
  /// The whole exchange's deadline on this route, if it has its own; positive.
  std::optional<std::chrono::milliseconds> timeout{};
  /// Whether Proxy-Authorization (toward the upstream) and Proxy-Authenticate (toward the
  /// client) are forwarded. They are meant for the gateway itself, so by default they stop
  /// there; set this when the upstream is a further proxy that authenticates the client.
  bool forward_proxy_credentials = false;
  /// Names of the policies to run on this route, in order; resolved by the policy layer.
  std::vector<std::string> policies{};
  /// Policy objects of this route's own, run after the named `policies` (and the
  /// listener's): no name to declare, nothing shared with other routes. Copies of the route
  /// share the policy objects. A `policy::static_chain` converts to one.
  policy::chain chain{};
};

}  // namespace gantry::route
