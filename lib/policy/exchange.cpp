#include "gantry/policy/exchange.hpp"

namespace gantry::policy {

void exchange::reset() noexcept {
  states_.clear();
  request.clear();
  response.clear();
  request_trailers.clear();
  response_trailers.clear();
  params = {};
  consumer.clear();
  timings = {};
  route_name = {};
  cluster = {};
  endpoint = {};
  request_bytes = 0;
  response_bytes = 0;
  error.clear();
  local_body_.clear();
  response_depth_ = all_policies;
  origin_ = response_origin::none;
  response_final_ = false;
  timing_decided_ = false;
  timed_into_ = nullptr;
}

verdict exchange::respond(http::status status, std::string_view body,
                          std::string_view content_type) {
  // The body first: it may be a view into the head about to be cleared.
  local_body_.assign(body);
  response.clear();
  response_trailers.clear();
  response.status = status;
  if (!content_type.empty()) response.fields.add("Content-Type", content_type);
  origin_ = response_origin::local;
  if (timings.response_head == clock::time_point{}) timings.response_head = clock_->now();
  return verdict::respond;
}

}  // namespace gantry::policy
