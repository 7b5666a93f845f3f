#pragma once
/// @file
/// A loaded configuration document: what the gateway serves and how the daemon runs it.

#include <optional>
#include <string>
#include <vector>

#include "gantry/gateway/config.hpp"
#include "gantry/gateway/options.hpp"

namespace gantry::config {

/// A listener of the file's `listeners` list as the daemon serves it: its addresses and
/// options (its routes and policies are in `document::gateway.listeners`).
struct listener_addresses {
  /// Addresses to serve it on (`listen`), as `document::listen`.
  std::vector<std::string> listen{};
  /// Its name, and its `client` section over the file's own.
  listener_options options{};
};

/// Everything a configuration file says, validated: `load_file` returns it only when the
/// whole file is valid, so it can be applied as one snapshot.
///
/// ```
/// auto doc = gantry::config::load_file("/etc/gantry/gantry.yaml");
/// gantry::gateway gw{doc.options};
/// gw.configure(std::move(doc.gateway));
/// for (const std::string& address : doc.listen) gw.listen(address);
/// for (const auto& l : doc.listeners)
///   for (const std::string& address : l.listen) gw.listen(address, l.options);
/// gw.start();
/// ```
struct document {
  /// Clusters, routes, named policies, listener policies and the named listeners' routes
  /// and policies (`clusters`, `routes`, `policies`, `listener_policies`, `listeners`).
  gateway_config gateway{};
  /// Addresses to serve on, "host:port" each (`listen`); "[::1]:8080" for IPv6, ":8080" or
  /// "*:8080" for every interface, port 0 for any free port.
  std::vector<std::string> listen{};
  /// Named listeners with routes of their own, where they listen (`listeners`).
  std::vector<listener_addresses> listeners{};
  /// Address of the admin listener, when there is one (`admin.listen`).
  std::optional<std::string> admin_listen{};
  /// Workers, timeouts and limits (`workers`, `client`, `upstream`, `drain_timeout`,
  /// `timer_resolution`, `buffer_size`); defaults where the file says nothing.
  gateway_options options{};
};

}  // namespace gantry::config
