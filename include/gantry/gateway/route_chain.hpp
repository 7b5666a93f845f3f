#pragma once
/// @file
/// The policy chain a gateway assembles for a route, for benchmarking and inspecting it.

#include <optional>
#include <string>
#include <string_view>

#include "gantry/gateway/config.hpp"
#include "gantry/http/request.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/route/action.hpp"

namespace gantry {

/// A route's chain as the gateway runs it, and the route it belongs to.
struct route_chain {
  /// The listener's policies, then the route's named policies, then its own objects; the
  /// policy objects are shared with `config`.
  policy::chain chain;
  /// The route's name; empty for an unnamed route, or when no route matched (the chain is
  /// then the listener's alone, as for a request the gateway answers 404 or proxies to its
  /// only cluster).
  std::string route_name;
  /// What the route answers itself when no policy does: its direct response, its redirect
  /// (the Location as written, placeholders unfilled), or the gateway's 404 when no route
  /// matched. None when it forwards upstream (a cluster, a split, a policy's pick, or the
  /// only cluster of a configuration without routes).
  std::optional<route::direct_response> answer;
};

/// The chain of the route named `route_name` among the routes of `listener` in `config` (the
/// gateway's own routes when empty, else those of the `gateway_config::listeners` entry of
/// that name). Throws `std::invalid_argument` when `config` does not compile (the gateway's
/// own message), or has no such listener or route.
route_chain chain_of_route(const gateway_config& config, std::string_view route_name,
                           std::string_view listener = {});

/// The chain of the route `request` matches among the routes of `listener` in `config`, by
/// the gateway's own route table. Throws `std::invalid_argument` when `config` does not
/// compile or has no such listener.
route_chain chain_for_request(const gateway_config& config, const http::request& request,
                              std::string_view listener = {});

}  // namespace gantry
