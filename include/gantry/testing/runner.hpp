#pragma once
/// @file
/// Runs a policy chain against an exchange on the gateway's exchange flow, with no sockets.

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gantry/http/method.hpp"
#include "gantry/http/request.hpp"
#include "gantry/http/response.hpp"
#include "gantry/http/status.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/policy/policy.hpp"
#include "gantry/policy/verdict.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/run_awaitable.hpp"

namespace gantry::testing {

/// What the pretend upstream answers when the request reaches it.
struct upstream_reply {
  http::status status = http::status::ok;
  std::vector<std::pair<std::string, std::string>> headers{};
  /// The body, piece by piece; empty for none.
  std::vector<std::string> body{};
  /// Trailer fields the body ends with.
  std::vector<std::pair<std::string, std::string>> trailers{};
};

/// What happened when `run` ran a chain: the verdict of each phase that ran, what reached the
/// upstream, and what the client would receive.
struct run_result {
  /// The verdict of each phase; empty when the phase did not run. For body phases, the
  /// verdict of the last piece that ran (the one that answered, if one did).
  std::optional<policy::verdict> request_head;
  std::optional<policy::verdict> request_body;
  std::optional<policy::verdict> request_trailers;
  std::optional<policy::verdict> response_head;
  std::optional<policy::verdict> response_body;
  std::optional<policy::verdict> response_trailers;
  /// How many phase runs suspended (returned a pending outcome) and were resumed.
  int suspensions = 0;

  /// True when the request went upstream (no request phase answered).
  bool forwarded = false;
  /// The request head as it went upstream, when `forwarded`.
  http::request upstream_request;
  /// The request body as it went upstream, pieces joined, and the trailers it ended with.
  std::string upstream_body;
  http::headers upstream_trailers;

  /// The response head the client receives.
  http::response response;
  /// The response body the client receives, pieces joined, and the trailers it ends with.
  std::string body;
  http::headers trailers;
  /// True when the client receives a local response.
  bool local = false;
};

/// Runs `chain` on `ex` as the gateway's exchange flow does, over in-memory ports: the
/// client sends `request_body` piece by piece, the upstream answers with `reply`, and any
/// suspended phase runs to completion on a private io_context. No sockets, no threads: a
/// chain of synchronous policies runs in microseconds.
///
/// Everything the gateway does between the two codecs happens: the request head phase;
/// the request body piece by piece (the last piece marked `end_of_stream`) unless a policy
/// answered; then the upstream's response (`reply`) through the response head and body
/// phases, or the local response's body as one piece; the 500 that replaces a head a
/// policy made unwritable, or a policy's exception; and the log phase. Phases no policy of
/// the chain implements are not run (their verdict stays empty), as in the gateway. The
/// peers are fast and take everything at once, so nothing has reached the client when a
/// response body phase answers: its local response replaces the whole response. What the
/// codecs add on the wire (X-Forwarded-*, Via, framing) is not there. Run each exchange once.
/// `request_trailers` are the fields the request body ends with.
run_result run(const policy::chain& chain, policy::exchange& ex,
               std::span<const std::string> request_body = {}, const upstream_reply& reply = {},
               const http::headers& request_trailers = {});

/// Runs any other chain (a `static_chain`, which then runs as one element of a chain, on a
/// copy of its policies).
// clang-format 14 garbles requires-clauses: laid out by hand.
// clang-format off
template <class Chain>
  requires(!std::same_as<Chain, policy::chain>)
run_result run(const Chain& chain, policy::exchange& ex,
               std::span<const std::string> request_body = {}, const upstream_reply& reply = {},
               const http::headers& request_trailers = {}) {
  const policy::chain copy{chain};
  run_result r = run(copy, ex, request_body, reply, request_trailers);
  // The policies' states in `ex` are laid out by `copy`, which ends here.
  policy::detail::chain_access::states(ex).clear();
  return r;
}
// clang-format on

/// Runs `chain` on a built exchange, streaming the builder's body pieces.
template <class Chain>
run_result run(const Chain& chain, built_exchange& ex, const upstream_reply& reply = {}) {
  return run(chain, ex.get(), ex.request_body(), reply, ex.request_trailers());
}

/// A readable, stable dump of a result (verdicts, heads, bodies), for comparing two runs and
/// for failure messages.
inline std::string describe(const run_result& r) {
  std::string out;
  auto verdict_of = [](const std::optional<policy::verdict>& v) {
    return v ? std::string{policy::to_string(*v)} : std::string{"-"};
  };
  out += "request_head=" + verdict_of(r.request_head);
  out += " request_body=" + verdict_of(r.request_body);
  out += " request_trailers=" + verdict_of(r.request_trailers);
  out += " response_head=" + verdict_of(r.response_head);
  out += " response_body=" + verdict_of(r.response_body);
  out += " response_trailers=" + verdict_of(r.response_trailers);
  out += " suspensions=" + std::to_string(r.suspensions);
  out += r.forwarded ? " forwarded\n" : " not-forwarded\n";
  // One line per field, after `prefix`.
  auto fields = [&out](std::string_view prefix, const http::headers& of) {
    for (auto f : of) {
      out += prefix;
      out += f.name;
      out += ": ";
      out += f.value;
      out += "\n";
    }
  };
  if (r.forwarded) {
    out += "> ";
    out += http::to_string(r.upstream_request.method);
    out += " " + r.upstream_request.target + "\n";
    fields("> ", r.upstream_request.fields);
    out += "> body: " + r.upstream_body + "\n";
    fields("> trailer ", r.upstream_trailers);
  }
  out += r.local ? "< local " : "< upstream ";
  out += std::to_string(static_cast<unsigned>(r.response.status)) + "\n";
  fields("< ", r.response.fields);
  out += "< body: " + r.body + "\n";
  fields("< trailer ", r.trailers);
  return out;
}

}  // namespace gantry::testing
