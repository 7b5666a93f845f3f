#pragma once
/// @file
/// Runs a policy chain against an exchange, with no sockets: the test kit's "gateway".

#include <asio/io_context.hpp>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gantry/http/method.hpp"
#include "gantry/http/request.hpp"
#include "gantry/http/response.hpp"
#include "gantry/http/status.hpp"
#include "gantry/policy/body_chunk.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/policy/outcome.hpp"
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
};

/// What happened when `run` ran a chain: the verdict of each phase that ran, what reached the
/// upstream, and what the client would receive.
struct run_result {
  /// The verdict of each phase; empty when the phase did not run. For body phases, the
  /// verdict of the last piece that ran (the one that answered, if one did).
  std::optional<policy::verdict> request_head;
  std::optional<policy::verdict> request_body;
  std::optional<policy::verdict> response_head;
  std::optional<policy::verdict> response_body;
  /// How many phase runs suspended (returned a pending outcome) and were resumed.
  int suspensions = 0;

  /// True when the request went upstream (no request phase answered).
  bool forwarded = false;
  /// The request head as it went upstream, when `forwarded`.
  http::request upstream_request;
  /// The request body as it went upstream, pieces joined.
  std::string upstream_body;

  /// The response head the client receives.
  http::response response;
  /// The response body the client receives, pieces joined.
  std::string body;
  /// True when the client receives a local response.
  bool local = false;
};

/// The test kit's stand-in for the gateway's proxy flow: runs every phase of `chain` on `ex`,
/// in the order the gateway does, with `reply` as the upstream and `request_body` as the
/// request's body pieces, and runs any suspended phase to completion on a private
/// io_context. No sockets, no threads: a chain of synchronous policies runs in microseconds.
///
/// The order: request head; request body piece by piece (unless answered); then, when
/// nothing answered, "the upstream" (`reply` becomes the response head); response head;
/// response body piece by piece (a local response's body as one last piece); log.
/// A response body phase that answers replaces the whole response (the runner has not "sent"
/// anything yet). Run each exchange once.
template <class Chain>
run_result run(const Chain& chain, policy::exchange& ex,
               std::span<const std::string> request_body = {}, const upstream_reply& reply = {}) {
  run_result r;
  asio::io_context io;
  auto settle = [&](policy::outcome o) {
    if (o.ready()) return o.value();
    ++r.suspensions;
    return run_awaitable(io, std::move(o).awaitable());
  };
  using policy::verdict;

  r.request_head = settle(chain.run_request_head(ex));
  bool answered = *r.request_head == verdict::respond;
  for (std::size_t i = 0; !answered && i < request_body.size(); ++i) {
    policy::body_chunk piece{request_body[i], i + 1 == request_body.size()};
    r.request_body = settle(chain.run_request_body(ex, piece));
    answered = *r.request_body == verdict::respond;
    if (!answered) r.upstream_body.append(piece.data);
  }

  if (!answered) {
    r.forwarded = true;
    r.upstream_request = ex.request;
    ex.response.clear();
    ex.response.status = reply.status;
    for (const auto& [name, value] : reply.headers) ex.response.fields.add(name, value);
    ex.accept_upstream_response();
  }

  r.response_head = settle(chain.run_response_head(ex));
  if (ex.has_local_response()) {
    if (!ex.local_body().empty() && *r.response_head != verdict::respond) {
      std::string body{ex.local_body()};
      policy::body_chunk piece{body, true};
      r.response_body = settle(chain.run_response_body(ex, piece));
      if (*r.response_body != verdict::respond) r.body.assign(piece.data);
    }
  } else {
    for (std::size_t i = 0; i < reply.body.size(); ++i) {
      policy::body_chunk piece{reply.body[i], i + 1 == reply.body.size()};
      r.response_body = settle(chain.run_response_body(ex, piece));
      if (*r.response_body == verdict::respond) break;
      r.body.append(piece.data);
    }
  }
  // A response phase that answered replaced the response, body included.
  if ((r.response_head == verdict::respond) || (r.response_body == verdict::respond))
    r.body.assign(ex.local_body());

  chain.run_log(ex);
  r.response = ex.response;
  r.local = ex.has_local_response();
  return r;
}

/// Runs `chain` on a built exchange, streaming the builder's body pieces.
template <class Chain>
run_result run(const Chain& chain, built_exchange& ex, const upstream_reply& reply = {}) {
  return run(chain, ex.get(), ex.request_body(), reply);
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
  out += " response_head=" + verdict_of(r.response_head);
  out += " response_body=" + verdict_of(r.response_body);
  out += " suspensions=" + std::to_string(r.suspensions);
  out += r.forwarded ? " forwarded\n" : " not-forwarded\n";
  if (r.forwarded) {
    out += "> ";
    out += http::to_string(r.upstream_request.method);
    out += " " + r.upstream_request.target + "\n";
    for (auto f : r.upstream_request.fields) {
      out += "> ";
      out += f.name;
      out += ": ";
      out += f.value;
      out += "\n";
    }
    out += "> body: " + r.upstream_body + "\n";
  }
  out += r.local ? "< local " : "< upstream ";
  out += std::to_string(static_cast<unsigned>(r.response.status)) + "\n";
  for (auto f : r.response.fields) {
    out += "< ";
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\n";
  }
  out += "< body: " + r.body + "\n";
  return out;
}

}  // namespace gantry::testing
