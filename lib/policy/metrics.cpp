#include "gantry/policy/metrics.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

namespace gantry::policy {

metrics::metrics(metrics_config config)
    : registry_{std::move(config.registry)}, policy_time_sampling_{config.policy_time_sampling} {
  if (registry_ == nullptr) throw std::invalid_argument("metrics policy: registry: is required");
}

chain_timing metrics::timing_for_chains() const {
  if (policy_time_sampling_ == 0) return {};
  // Shares ownership of the registry that holds it.
  return {.into = std::shared_ptr<policy_timing>{registry_, &registry_->policy_times()},
          .one_in = policy_time_sampling_};
}

void metrics::on_log(exchange& ex) const {
  const clock::time_point end =
      ex.timings.end == clock::time_point{} ? ex.clock().now() : ex.timings.end;
  metrics_sample s;
  s.route = ex.route_name;
  s.cluster = ex.cluster;
  if (ex.origin() != response_origin::none)
    s.status = static_cast<std::uint16_t>(ex.response.status);
  s.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(end - ex.timings.start);
  // Only a head the upstream gave has an upstream time; a local one replaced it, or there was
  // none.
  if (ex.origin() == response_origin::upstream && ex.timings.response_head != clock::time_point{})
    s.upstream = std::chrono::duration_cast<std::chrono::nanoseconds>(ex.timings.response_head -
                                                                      ex.timings.start);
  s.bytes_in = ex.request_bytes;
  s.bytes_out = ex.response_bytes;
  registry_->record(ex.worker, s);
}

}  // namespace gantry::policy
