#pragma once
/// @file
/// A named group of interchangeable upstream servers.

#include <string>
#include <string_view>
#include <vector>

#include "gantry/upstream/endpoint.hpp"

namespace gantry::upstream {

/// Servers that serve the same API, so any of them can take any request. Part of the
/// immutable configuration; per-worker state (balancer position, pools) lives elsewhere.
struct cluster {
  std::string name;
  std::vector<endpoint> endpoints;

  /// Builds a cluster from "host:port" strings, resolving each at once (start-up only).
  /// Throws `std::invalid_argument` naming the cluster and the bad address.
  static cluster from_addresses(std::string name, const std::vector<std::string>& addresses);
};

}  // namespace gantry::upstream
