#pragma once
// What every worker reads and nobody writes while serving: the clusters and where requests go.

#include <cstdint>
#include <vector>

#include "gantry/upstream/cluster.hpp"

namespace gantry::detail {

struct snapshot {
  std::vector<upstream::cluster> clusters;
  // Pools index endpoints across all clusters: cluster c's endpoint e is first_endpoint[c] + e.
  std::vector<std::uint32_t> first_endpoint;
  std::uint32_t endpoint_count = 0;

  void add(upstream::cluster c) {
    first_endpoint.push_back(endpoint_count);
    endpoint_count += static_cast<std::uint32_t>(c.endpoints.size());
    clusters.push_back(std::move(c));
  }
};

}  // namespace gantry::detail
