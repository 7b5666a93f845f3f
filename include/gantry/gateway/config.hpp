#pragma once
/// @file
/// What a gateway serves: clusters, routes and named policies, as plain data.

#include <string>
#include <vector>

#include "gantry/policy/chain.hpp"
#include "gantry/route/route.hpp"

namespace gantry {

/// A named group of upstream servers, as written in configuration.
struct cluster_config {
  /// The name routes refer to.
  std::string name{};
  /// "host:port" of each server; resolved when the configuration is applied.
  std::vector<std::string> endpoints{};
};

/// A policy (or a short chain of them) given a name, so routes can refer to it.
struct named_policy {
  /// The name `route::route::policies` and `gateway_config::listener_policies` use.
  std::string name{};
  /// The policies run where the name is listed, in order.
  policy::chain chain{};
};

/// Everything a gateway serves, as plain data: the same whether built in C++ or loaded from
/// YAML. A gateway compiles it into an immutable snapshot (`gateway::configure`,
/// `gateway::reload`), which validates it as a whole and reports every problem at once.
///
/// ```
/// gantry::gateway_config config;
/// config.clusters = {{.name = "users", .endpoints = {"10.0.0.7:8080"}}};
/// config.policies = {{.name = "request-id",
///                     .chain = gantry::policy::chain{}.add(gantry::policy::request_id_config{})}};
/// config.listener_policies = {"request-id"};
/// config.routes = {{.name = "users",
///                   .match = {.path = gantry::route::path_prefix{"/users"}},
///                   .action = gantry::route::proxy{"users"}}};
/// ```
struct gateway_config {
  /// The clusters routes may send requests to; names are unique.
  std::vector<cluster_config> clusters{};
  /// The routes, in declared order. With no routes, every request goes to the first cluster.
  std::vector<route::route> routes{};
  /// Policies routes and listeners refer to by name; names are unique.
  std::vector<named_policy> policies{};
  /// Policies run on every exchange before the route's (its named ones, then
  /// `route::route::chain`), including requests that match no route (which get a 404
  /// through them, so logs and metrics see them).
  std::vector<std::string> listener_policies{};
};

}  // namespace gantry
