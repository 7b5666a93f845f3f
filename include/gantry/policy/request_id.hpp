#pragma once
/// @file
/// The request-id policy: every exchange gets an id, and W3C trace context is carried on.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gantry/policy/exchange.hpp"
#include "gantry/policy/verdict.hpp"

namespace gantry::policy {

class request_id;

/// Configuration of `request_id`.
struct request_id_config {
  using policy_type = request_id;

  /// The field that carries the id, upstream and (with `echo`) back to the client.
  std::string header = "X-Request-Id";
  /// Keep an id the client sent, when it is well-formed: 1 to `max_length` visible ASCII
  /// characters, in exactly one field. Otherwise, and when false, a new id replaces it.
  bool keep_incoming = true;
  /// The longest incoming id kept; at most 128.
  std::size_t max_length = 128;
  /// Put the id on the response as well, local responses included.
  bool echo = true;
  /// Carry W3C trace context (`traceparent`): propagate a valid one with a new parent id for
  /// this hop (same trace id and flags), or start a trace when it is missing or invalid
  /// (and then drop `tracestate`, which belonged to the invalid one).
  bool trace_context = true;
  /// Mark the traces this policy starts as sampled (trace flags 01) rather than not (00).
  bool sample_new_traces = false;
};

/// Keeps or generates `X-Request-Id` and propagates or starts W3C `traceparent`.
///
/// A generated id is 32 lowercase hex digits (128 random bits) from a per-thread generator:
/// no lock, no allocation. Put it first in a chain so every later policy, the upstream, the
/// access log and the client (with `echo`) see the same id, even on a local response.
///
/// ```
/// chain.add(gantry::policy::request_id_config{.header = "X-Correlation-Id"});
/// ```
class request_id {
 public:
  using config = request_id_config;

  /// The id of the exchange, kept for the response phase.
  struct state {
    std::array<char, 128> id;
    std::uint8_t size = 0;
  };

  /// Validates `config`; throws `std::invalid_argument` naming every problem.
  explicit request_id(request_id_config config);

  verdict on_request_head(exchange& ex, state& s) const;
  verdict on_response_head(exchange& ex, state& s) const;

  /// The exchange's request id, as read from a state of this policy.
  static std::string_view id(const state& s) noexcept { return {s.id.data(), s.size}; }

  /// True when `value` is a well-formed `traceparent` (W3C Trace Context, level 1 rules for
  /// version 00 and for later versions).
  static bool is_valid_traceparent(std::string_view value) noexcept;

 private:
  request_id_config config_;
};

}  // namespace gantry::policy
