#pragma once
/// @file
/// The metrics-endpoint policy: answers with a registry's metrics in the Prometheus format.

#include <memory>
#include <string_view>

#include "gantry/policy/exchange.hpp"
#include "gantry/policy/metrics_registry.hpp"
#include "gantry/policy/verdict.hpp"

namespace gantry::policy {

class metrics_endpoint;

/// Configuration of `metrics_endpoint`.
struct metrics_endpoint_config {
  using policy_type = metrics_endpoint;

  /// The registry to serve; required.
  std::shared_ptr<const metrics_registry> registry{};
};

/// Answers every request locally with `registry->render()`, Content-Type
/// `text/plain; version=0.0.4` (the Prometheus text format), so that a route of an admin
/// listener serves `/metrics`. GET and HEAD get 200; any other method gets 405 with
/// `Allow: GET, HEAD`. Nothing goes upstream.
///
/// ```
/// admin_chain.add(gantry::policy::metrics_endpoint_config{.registry = registry});
/// ```
class metrics_endpoint {
 public:
  using config = metrics_endpoint_config;

  /// The Content-Type of the answer.
  static constexpr std::string_view content_type = "text/plain; version=0.0.4";

  /// Throws `std::invalid_argument` when `config.registry` is null.
  explicit metrics_endpoint(metrics_endpoint_config config);

  verdict on_request_head(exchange& ex) const;

 private:
  std::shared_ptr<const metrics_registry> registry_;
};

}  // namespace gantry::policy
