#include "gantry/policy/metrics_endpoint.hpp"

#include <stdexcept>
#include <utility>

#include "gantry/http/method.hpp"

namespace gantry::policy {

metrics_endpoint::metrics_endpoint(metrics_endpoint_config config)
    : registry_{std::move(config.registry)} {
  if (registry_ == nullptr)
    throw std::invalid_argument("metrics_endpoint policy: registry: is required");
}

verdict metrics_endpoint::on_request_head(exchange& ex) const {
  if (ex.request.method != http::method::get && ex.request.method != http::method::head) {
    ex.respond(http::status::method_not_allowed);
    ex.response.fields.add("Allow", "GET, HEAD");
    return verdict::respond;
  }
  ex.respond(http::status::ok, {}, content_type);
  // Rendered straight into the exchange's body buffer, which it keeps between exchanges.
  registry_->render(ex.local_body());
  return verdict::respond;
}

}  // namespace gantry::policy
