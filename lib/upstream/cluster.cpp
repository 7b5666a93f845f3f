#include "gantry/upstream/cluster.hpp"

#include <stdexcept>

#include "gantry/net/address.hpp"

namespace gantry::upstream {

cluster cluster::from_addresses(std::string name, const std::vector<std::string>& addresses) {
  if (addresses.empty()) throw std::invalid_argument("cluster '" + name + "' has no endpoints");
  cluster c{std::move(name), {}};
  for (const auto& address : addresses) {
    try {
      c.endpoints.push_back({net::resolve_one(address), address});
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("cluster '" + c.name + "': " + e.what());
    }
  }
  return c;
}

}  // namespace gantry::upstream
