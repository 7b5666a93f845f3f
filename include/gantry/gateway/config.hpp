#pragma once
/// @file
/// What a gateway serves: clusters, routes and named policies, as plain data.

#include <optional>
#include <string>
#include <vector>

#include "gantry/net/tls_settings.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/route/route.hpp"

namespace gantry {

/// A named group of upstream servers, as written in configuration.
struct cluster_config {
  /// The name routes refer to.
  std::string name{};
  /// "host:port" of each server; resolved when the configuration is applied.
  std::vector<std::string> endpoints{};
  /// TLS to the servers (HTTPS upstreams, mTLS with a client certificate); none: plain.
  /// Without a `server_name`, each endpoint's host is the name its certificate must carry.
  std::optional<net::tls_client_settings> tls{};
};

/// A policy (or a short chain of them) given a name, so routes can refer to it.
struct named_policy {
  /// The name `route::route::policies` and `gateway_config::listener_policies` use.
  std::string name{};
  /// The policies run where the name is listed, in order.
  policy::chain chain{};
};

/// TLS settings given a name, for listening addresses to terminate TLS with
/// (`listener_options::tls`). Part of the configuration, so a reload reads the certificate
/// files again: a renewed certificate serves new connections, open ones keep theirs.
struct named_tls {
  /// The name `listener_options::tls` refers to; unique, not empty.
  std::string name{};
  net::tls_server_settings settings{};
};

/// A listener with routes of its own: an admin or internal port beside the public one.
/// `gateway::listen(address, {.name = ...})` serves it on an address; addresses listened on
/// without a name serve the gateway's own routes and listener policies.
///
/// ```
/// config.listeners = {{.name = "admin",
///                      .routes = {{.name = "health",
///                                  .match = {.path = gantry::route::path_exact{"/healthz"}},
///                                  .action = gantry::route::direct_response{}}}}};
/// gw.listen("127.0.0.1:9901", {.name = "admin"});
/// ```
struct listener_config {
  /// The name `listener_options::name` refers to; unique, not empty.
  std::string name{};
  /// This listener's routes, as `gateway_config::routes` are the gateway's: with none, every
  /// request goes to the first cluster.
  std::vector<route::route> routes{};
  /// Policies (by name, from `gateway_config::policies`) run on every exchange this listener
  /// serves, before the route's.
  std::vector<std::string> listener_policies{};
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
  /// Policies run on every exchange of the listeners without a name, before the route's (its
  /// named ones, then `route::route::chain`), including requests that match no route (which
  /// get a 404 through them, so logs and metrics see them).
  std::vector<std::string> listener_policies{};
  /// Listeners with routes of their own, served where `gateway::listen` names them. A reload
  /// may change them but not remove one that is being served.
  std::vector<listener_config> listeners{};
  /// TLS settings addresses terminate TLS with, by name. A reload may change them but not
  /// remove one that an address serves.
  std::vector<named_tls> tls{};
};

}  // namespace gantry
