#pragma once
/// @file
/// The metrics policy: counts every exchange in a `metrics_registry`.

#include <cstdint>
#include <memory>

#include "gantry/policy/exchange.hpp"
#include "gantry/policy/metrics_registry.hpp"
#include "gantry/policy/policy_timing.hpp"

namespace gantry::policy {

class metrics;

/// Configuration of `metrics`.
struct metrics_config {
  using policy_type = metrics;

  /// Where to count; required. Shared, so that it survives a reload that rebuilds the chain,
  /// and so that a `metrics_endpoint` can serve it.
  std::shared_ptr<metrics_registry> registry{};
  /// Also times each phase of each policy of the chains this policy is on (the route's whole
  /// chain, listener policies included), one exchange in N per worker, into
  /// `registry->policy_times()`: 0 turns it off, 1 times every exchange. Sampled so that it
  /// can stay on: an exchange that is not timed reads no clock.
  std::uint32_t policy_time_sampling = 64;
};

/// Counts every exchange, local responses included, in its registry (see `metrics_registry`
/// for the series): by `exchange::route_name`, `exchange::cluster` and the status class, with
/// the total duration, the upstream time (when the upstream gave the response head) and the
/// bytes in and out. It records in the log phase, into shard `exchange::worker`, so the
/// registry needs at least as many shards as there are workers.
///
/// With `policy_time_sampling`, it asks the chains it is on to time their policies (see
/// `policy_timing`): the chain decides at an exchange's first phase whether to time it.
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

  /// What it asks of the chains it is on: time their policies into the registry, one
  /// exchange in `policy_time_sampling` (off when 0).
  chain_timing timing_for_chains() const;

  /// The registry it counts in.
  const std::shared_ptr<metrics_registry>& registry() const noexcept { return registry_; }

 private:
  std::shared_ptr<metrics_registry> registry_;
  std::uint32_t policy_time_sampling_;
};

}  // namespace gantry::policy
