#pragma once
/// @file
/// The metrics policy: counts every exchange in a `metrics_registry`.

#include <memory>

#include "gantry/policy/exchange.hpp"
#include "gantry/policy/metrics_registry.hpp"

namespace gantry::policy {

class metrics;

/// Configuration of `metrics`.
struct metrics_config {
  using policy_type = metrics;

  /// Where to count; required. Shared, so that it survives a reload that rebuilds the chain,
  /// and so that a `metrics_endpoint` can serve it.
  std::shared_ptr<metrics_registry> registry{};
};

/// Counts every exchange, local responses included, in its registry (see `metrics_registry`
/// for the series): by `exchange::route_name`, `exchange::cluster` and the status class, with
/// the total duration, the upstream time (when the upstream gave the response head) and the
/// bytes in and out. It records in the log phase, into shard `exchange::worker`, so the
/// registry needs at least as many shards as there are workers.
///
/// ```
/// auto registry = std::make_shared<gantry::policy::metrics_registry>(workers);
/// chain.add(gantry::policy::metrics_config{.registry = registry});
/// ```
class metrics {
 public:
  using config = metrics_config;

  /// Throws `std::invalid_argument` when `config.registry` is null.
  explicit metrics(metrics_config config);

  void on_log(exchange& ex) const;

  /// The registry it counts in.
  const std::shared_ptr<metrics_registry>& registry() const noexcept { return registry_; }

 private:
  std::shared_ptr<metrics_registry> registry_;
};

}  // namespace gantry::policy
