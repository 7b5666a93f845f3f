#pragma once
/// @file
/// The per-exchange context that every policy phase receives.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "gantry/http/request.hpp"
#include "gantry/http/response.hpp"
#include "gantry/http/status.hpp"
#include "gantry/policy/clock.hpp"
#include "gantry/policy/downstream.hpp"
#include "gantry/policy/state_store.hpp"
#include "gantry/policy/verdict.hpp"

namespace gantry::policy {

class policy_timing;

namespace detail {
struct chain_access;
}

/// A parameter the router captured from the path, e.g. {"id", "7"} for "/users/{id}".
/// Both views belong to the router's match, which outlives the exchange's phases.
struct route_param {
  std::string_view name{};
  std::string_view value{};
};

/// Where the response head in an exchange came from.
enum class response_origin : std::uint8_t {
  none,      ///< No response yet.
  upstream,  ///< The upstream's head (`exchange::accept_upstream_response`).
  local,     ///< A local response (`exchange::respond`), from a policy or the gateway.
};

/// When things happened during an exchange, read from the exchange's clock. A zero
/// `time_point` means "not yet".
struct exchange_timings {
  /// The exchange began: its request head was complete (`exchange::start`).
  clock::time_point start{};
  /// The response head became available, from the upstream or locally.
  clock::time_point response_head{};
  /// The response was complete; set before the log phase at the latest.
  clock::time_point end{};
};

/// Everything one request/response exchange carries through the policy chain: the request
/// head (which policies may edit before it goes upstream), the response head once there is
/// one, route params, the consumer's identity, timings, a local response, and each policy's
/// typed state.
///
/// One `exchange` object is meant to be reused for every exchange on a connection: `reset`
/// keeps every buffer, so a steady stream of similar exchanges stops allocating. It is
/// neither copyable nor movable: policy state lives inside it.
///
/// The integrator (the gateway's proxy flow, or `gantry::testing::run`) drives it:
///
/// ```
/// ex.reset();
/// ex.start(clock);                       // when the request head is complete
/// std::swap(ex.request, parsed_head);    // keeps both buffers
/// ex.params = match.params;              // views into the router's match
/// auto o = chain.run_request_head(ex);
/// ```
///
/// A policy answers locally with `respond`:
///
/// ```
/// if (!ex.request.fields.contains("X-Api-Key"))
///   return ex.respond(gantry::http::status::unauthorized, "missing API key\n");
/// ```
class exchange {
 public:
  exchange() = default;
  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;
  ~exchange() = default;

  /// The request head. Request phases may edit it; it goes upstream as they leave it, and
  /// stays readable (as last edited) until the exchange is reset.
  http::request request;
  /// The response head once `origin()` is not `none`: the upstream's, or a local one.
  /// Response phases may edit it before it goes to the client.
  http::response response;
  /// The request's trailer fields, as the request trailers phase sees them: those its body
  /// ended with (empty when it had none). What the phase leaves goes upstream with the body
  /// when it goes chunked (always, with a request body phase).
  http::headers request_trailers;
  /// The response's trailer fields: the upstream's, as the response trailers phase sees them
  /// once its body ended, or a local response's (add them after `respond`, which clears
  /// them). Sent to an HTTP/1.1 client, whose response then goes chunked.
  http::headers response_trailers;
  /// The route's captured params, in path order. Empty when the route captured none.
  std::span<const route_param> params;
  /// The identity of the authenticated consumer, set by an auth policy; empty when anonymous.
  std::string consumer;
  /// When things happened.
  exchange_timings timings;
  /// The matched route's name; empty when no route matched or the route is unnamed. Set by
  /// the integrator before the request head phase; views configuration that outlives it.
  std::string_view route_name;
  /// The cluster the request went to, once one is chosen; empty for a local response.
  std::string_view cluster;
  /// The upstream endpoint ("10.0.0.7:8080") the request went to, once one is chosen.
  std::string_view endpoint;
  /// Bytes of the request read from the client: head and body, as on the wire.
  std::uint64_t request_bytes = 0;
  /// Bytes of the response written to the client: head and body, as on the wire.
  std::uint64_t response_bytes = 0;
  /// Why the gateway could not carry the exchange to its end, when it could not: a
  /// `gantry::proxy_errc` (the upstream was unreachable, timed out, sent a malformed
  /// response; the client went away), an `http::errc` (a malformed request body), or, when
  /// the TLS handshake with the upstream failed, the TLS layer's reason (a certificate for
  /// another host, an untrusted one, an alert). Empty otherwise. Its `message()` names it;
  /// the access log writes that.
  std::error_code error;
  /// The index of the worker running the exchange (0 to workers - 1): a shard index for
  /// per-worker state such as metrics, so they need no lock. Kept by `reset`, like the clock.
  std::uint32_t worker = 0;
  /// The client connection: peer and local addresses, scheme, TLS. Set by the integrator
  /// when the connection begins; kept by `reset`, like `worker`.
  downstream_facts downstream;

  /// Begins an exchange: reads the time from `source` into `timings.start` and keeps `source`
  /// for `clock()`. `source` must outlive the exchange.
  void start(const policy::clock& source = policy::clock::real()) noexcept {
    clock_ = &source;
    timings.start = source.now();
  }

  /// Makes the object ready for the next exchange: destroys the policies' states and clears
  /// every field, keeping buffers. The clock stays.
  void reset() noexcept;

  /// The clock this exchange reads time from.
  const policy::clock& clock() const noexcept { return *clock_; }

  /// The value of the route param called `name`, if the route captured one.
  std::optional<std::string_view> param(std::string_view name) const noexcept {
    for (const route_param& p : params)
      if (p.name == name) return p.value;
    return std::nullopt;
  }

  /// Replaces the response with a local one and returns `verdict::respond`, so a phase can
  /// `return ex.respond(...)`. The head is cleared, then gets `status` and, when
  /// `content_type` is not empty, a Content-Type field; add other fields to `response.fields`
  /// afterwards. Never add Content-Length or Transfer-Encoding: the gateway frames the body.
  /// `body` may view anything, `content_type` anything but the response head it replaces.
  verdict respond(http::status status, std::string_view body = {},
                  std::string_view content_type = {});

  /// Marks `response` as the upstream's head, which the integrator has just filled in, and
  /// records `timings.response_head`.
  void accept_upstream_response() noexcept {
    origin_ = response_origin::upstream;
    if (timings.response_head == clock::time_point{}) timings.response_head = clock_->now();
  }

  /// Where `response` came from.
  response_origin origin() const noexcept { return origin_; }
  /// True when `response` is a local response.
  bool has_local_response() const noexcept { return origin_ == response_origin::local; }
  /// The body of the local response.
  std::string_view local_body() const noexcept { return local_body_; }
  /// The body of the local response, to build in place after `respond`.
  std::string& local_body() noexcept { return local_body_; }

 private:
  friend struct detail::chain_access;
  static constexpr std::uint32_t all_policies = std::numeric_limits<std::uint32_t>::max();

  const policy::clock* clock_ = &policy::clock::real();
  std::string local_body_;
  state_store states_;
  // How many policies, from the first, run the response phases: all, unless a request
  // phase answered locally (then those before it).
  std::uint32_t response_depth_ = all_policies;
  response_origin origin_ = response_origin::none;
  // A response phase answered locally: its response is final, no response phase runs again.
  bool response_final_ = false;
  // Whether this exchange's policy phases are timed, decided by the first chain phase that
  // runs (see `policy_timing`): where to record them when they are, else null.
  bool timing_decided_ = false;
  policy_timing* timed_into_ = nullptr;
};

}  // namespace gantry::policy
