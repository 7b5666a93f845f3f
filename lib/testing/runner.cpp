// The test kit's `run`: the gateway's exchange flow over in-memory ports. The downstream port
// hands out the request body's pieces and keeps the response as the client would read it;
// the upstream port keeps what reached it and answers with the scripted reply. Both hold
// everything in memory, so nothing is sent before the flow ends a message, as on a
// connection whose peer is fast: an answer from a response body phase always replaces the
// response.
#include "gantry/testing/runner.hpp"

#include <asio/io_context.hpp>
#include <cstdint>
#include <exception>

#include "../gateway/exchange_flow_impl.hpp"
#include "gantry/testing/run_awaitable.hpp"
#include "memory_ports.hpp"

namespace gantry::testing {
namespace {

using gantry::detail::memory_downstream;
using gantry::detail::memory_upstream;

// Runs like the chain it wraps, and keeps the verdict of each phase in the result.
class recording_chain {
 public:
  recording_chain(const policy::chain& chain, run_result& into) : chain_{chain}, result_{into} {}

  bool empty() const noexcept { return chain_.empty(); }
  bool has_phase(policy::phase ph) const noexcept { return chain_.has_phase(ph); }
  policy::outcome run_request_head(policy::exchange& ex) const {
    return record(chain_.run_request_head(ex), result_.request_head);
  }
  policy::outcome run_request_body(policy::exchange& ex, policy::body_chunk& piece) const {
    return record(chain_.run_request_body(ex, piece), result_.request_body);
  }
  policy::outcome run_request_trailers(policy::exchange& ex) const {
    return record(chain_.run_request_trailers(ex), result_.request_trailers);
  }
  policy::outcome run_response_trailers(policy::exchange& ex) const {
    if (answered_final(ex)) return chain_.run_response_trailers(ex);
    return record(chain_.run_response_trailers(ex), result_.response_trailers);
  }
  // Once a response phase answered, the response is final and no policy runs a response
  // phase for it: the flow's calls then record nothing.
  policy::outcome run_response_head(policy::exchange& ex) const {
    if (answered_final(ex)) return chain_.run_response_head(ex);
    return record(chain_.run_response_head(ex), result_.response_head);
  }
  policy::outcome run_response_body(policy::exchange& ex, policy::body_chunk& piece) const {
    if (answered_final(ex)) return chain_.run_response_body(ex, piece);
    return record(chain_.run_response_body(ex, piece), result_.response_body);
  }
  void run_log(policy::exchange& ex) const { chain_.run_log(ex); }

 private:
  static bool answered_final(const policy::exchange& ex) noexcept {
    return policy::detail::chain_access::response_final(ex);
  }
  policy::outcome record(policy::outcome o, std::optional<policy::verdict>& into) const {
    if (o.ready()) {
      into = o.value();
      return o;
    }
    ++result_.suspensions;
    return settle(std::move(o).awaitable(), into);
  }
  static asio::awaitable<policy::verdict> settle(asio::awaitable<policy::verdict> pending,
                                                 std::optional<policy::verdict>& into) {
    const policy::verdict v = co_await std::move(pending);
    into = v;
    co_return v;
  }

  const policy::chain& chain_;
  run_result& result_;
};

}  // namespace

run_result run(const policy::chain& chain, policy::exchange& ex,
               std::span<const std::string> request_body, const upstream_reply& reply,
               const http::headers& request_trailers) {
  run_result r;
  memory_downstream down{request_body, request_trailers, ex.request_bytes, r};
  memory_upstream up{reply, r};
  const recording_chain recorder{chain, r};
  std::string scratch;
  detail::exchange_flow<memory_downstream, memory_upstream, recording_chain> flow{ex, down, up,
                                                                                  scratch};
  flow.use(recorder, http::proxy_credentials::keep);
  asio::io_context io;
  run_awaitable(io, [&]() -> asio::awaitable<void> {
    bool failed = false;
    try {
      co_await flow.run([&] { return flow.forward({}); });
    } catch (...) {
      failed = true;  // as in the gateway: a 500 if the response has not begun
    }
    if (failed) co_await flow.fail(http::status::internal_server_error);
  }());
  flow.end();
  r.response = ex.response;
  r.local = ex.has_local_response();
  return r;
}

}  // namespace gantry::testing
