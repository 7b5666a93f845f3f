#pragma once
/// @file
/// A loaded configuration document: what the gateway serves and how the daemon runs it.

#include <optional>
#include <string>
#include <vector>

#include "gantry/config/error.hpp"
#include "gantry/gateway/config.hpp"
#include "gantry/gateway/options.hpp"

namespace gantry::config {

/// An address to serve, and how: an entry of the file's `listen` list, or of a named
/// listener's.
struct listen_address {
  /// "host:port", as `gateway::listen` takes it.
  std::string address{};
  /// The named listener it serves (empty for the top-level `listen`), the TLS settings it
  /// terminates TLS with (an entry of `document::gateway.tls`, named after the address; empty
  /// for plain HTTP), and a named listener's `client` section over the file's own.
  listener_options options{};
};

/// Everything a configuration file says, validated: `load_file` returns it only when the
/// whole file is valid, so it can be applied as one snapshot.
///
/// ```
/// auto doc = gantry::config::load_file("/etc/gantry/gantry.yaml");
/// gantry::gateway gw{doc.options};
/// gw.configure(std::move(doc.gateway));
/// for (const auto& l : doc.listen) gw.listen(l.address, l.options);
/// gw.start();
/// ```
struct document {
  /// Clusters, routes, named policies, listener policies, the named listeners' routes and
  /// policies, and the TLS settings of `listen` entries (`clusters`, `routes`, `policies`,
  /// `listener_policies`, `listeners`, `listen[].tls`).
  gateway_config gateway{};
  /// Addresses to serve on: the top-level `listen` list first, then each named listener's;
  /// "[::1]:8080" for IPv6, ":8080" or "*:8080" for every interface, port 0 for any free port.
  std::vector<listen_address> listen{};
  /// Address of the admin listener, when there is one (`admin.listen`).
  std::optional<std::string> admin_listen{};
  /// Workers, timeouts and limits (`workers`, `client`, `upstream`, `drain_timeout`,
  /// `timer_resolution`, `buffer_size`); defaults where the file says nothing.
  gateway_options options{};
  /// What is worth fixing but did not stop the load, in document order: a certificate past
  /// its expiry date or not valid yet (served all the same: a renewal may be on its way).
  std::vector<diagnostic> warnings{};
};

}  // namespace gantry::config
