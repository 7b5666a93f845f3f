#pragma once
// One immutable, compiled configuration: what every worker reads and nobody writes while
// serving. A reload compiles a new one and publishes it; exchanges in flight keep theirs.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gantry/gateway/config.hpp"
#include "gantry/http/hop_by_hop.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/route/captures.hpp"
#include "gantry/route/route_table.hpp"
#include "gantry/upstream/cluster.hpp"

namespace gantry::net {
class tls_context;
}

namespace gantry::detail {

// A route as the proxy flow uses it: its chain assembled (its listener's policies, then the
// route's named ones, then its own objects) and its cluster names resolved to indices.
struct route_entry {
  const route::route* route = nullptr;  // null for the fallback
  policy::chain chain;
  std::uint32_t cluster = 0;           // proxy: the cluster's index
  std::vector<std::uint32_t> split{};  // weighted split: the index of each destination

  // What forwarding does with Proxy-Authorization and Proxy-Authenticate on this route.
  http::proxy_credentials proxy_credentials() const noexcept {
    return route != nullptr && route->forward_proxy_credentials ? http::proxy_credentials::keep
                                                                : http::proxy_credentials::remove;
  }
};

// The routes of one listener: the gateway's own, or those of a named listener.
struct route_set {
  std::string name;  // empty for the gateway's own
  route::route_table table;
  std::vector<route_entry> routes;  // parallel to table.routes()
  // Requests no route matches: with no routes at all, proxied to the first cluster; else 404.
  route_entry fallback;
  bool fallback_proxies = false;

  // The entry for `req`, never null; `params` receives the matched route's captures.
  const route_entry& select(const route::request_view& req, route::captures& params) const {
    if (const route::route* r = table.match(req, params))
      return routes[static_cast<std::size_t>(r - table.routes().data())];
    return fallback;
  }
};

// No routes and no policies: every request gets a 404.
inline const route_set unconfigured_listener{};

// What addresses serve, which a configuration must keep declaring: listeners and TLS
// settings, by name.
struct served_names {
  std::span<const std::string> listeners{};
  std::span<const std::string> tls{};
};

struct snapshot {
  // The gateway's own routes first, then each named listener's, in declared order.
  std::vector<route_set> listeners;
  std::vector<upstream::cluster> clusters;
  // By cluster: the TLS context of a cluster that speaks TLS; null for plain HTTP.
  std::vector<std::shared_ptr<const net::tls_context>> tls_of_cluster;
  // By endpoint number: the name a TLS endpoint's certificate must carry and the SNI sent
  // (the cluster's server_name, else the endpoint's host); empty for plain endpoints, and for
  // an IP address a cluster that does not verify connects to (no SNI then).
  std::vector<std::string> tls_server_name;
  // By cluster: its TLS settings, which key the pool's slots with the endpoint.
  std::vector<std::optional<net::tls_client_settings>> settings_of_clusters;
  // Endpoints are numbered across all clusters: cluster c's endpoint e is
  // first_endpoint[c] + e.
  std::vector<std::uint32_t> first_endpoint;
  std::uint32_t endpoint_count = 0;
  // TLS contexts by name, read from their files when the snapshot was compiled.
  std::vector<std::pair<std::string, std::shared_ptr<const net::tls_context>>> tls;
  // Cluster indices by name (views of `clusters`' names), for upstreams picked at run time.
  std::unordered_map<std::string_view, std::uint32_t> cluster_by_name;

  // The routes of the listener named `name` (empty: the gateway's own); null when there is no
  // such listener. A scan: it runs when a connection's configuration changes, not per request.
  const route_set* listener(std::string_view name) const noexcept {
    for (const route_set& set : listeners)
      if (set.name == name) return &set;
    return nullptr;
  }

  // The TLS context named `name`; null when there is none.
  const std::shared_ptr<const net::tls_context>* tls_context(std::string_view name) const noexcept {
    for (const auto& [n, context] : tls)
      if (n == name) return &context;
    return nullptr;
  }

  // Validates `config` as a whole and compiles it, resolving endpoint addresses and reading
  // TLS files; throws `std::invalid_argument` listing every problem, one per line.
  static std::shared_ptr<const snapshot> compile(const gateway_config& config,
                                                 served_names served = {});
};

}  // namespace gantry::detail
