#pragma once
// The policy phases of one exchange between its two ports: the request head's phase, the
// request body pumped to the upstream port, the upstream's head and body through the
// response phases to the downstream port, local answers, and the log phase. It reads no
// HTTP/1 framing, parser or wire string, and knows nothing of routes or pools: the gateway's
// exchange driver chooses where an exchange goes and hands this flow the upstream target;
// the test kit runs the same flow over in-memory ports.
//
// A downstream port offers, besides being a body pump's source (the request body) and sink
// (the response body, see body_pump.hpp):
//   http::body_framing request_framing() const;   how the request body arrives
//   bool request_complete() const;                 the request body was read whole
//   std::uint64_t request_bytes() const;           of the request, as received
//   asio::awaitable<std::error_code> send_interim(http::response&);   a 1xx to pass on
//   void queue_response_head(http::response&, const http::body_framing&, bool close);
//       the upstream's head, its body to follow framed as `framing` says it arrives
//   void queue_local_head(http::response&, std::size_t body_size, bool close,
//                         bool trailers);   trailers: the body ends with some, if it can
//   bool response_started() const;   a response head is queued or sent
//   bool retract_response_head();    un-queues a head when nothing of it was sent
//   bool closes_after() const;       the connection ends with this exchange
// It frames what it is given for its own connection, answers Expect, and counts the bytes
// it writes in `exchange().response_bytes`.
//
// An upstream port offers, besides being a body pump's sink (the request body) and source
// (the response body):
//   struct target;                    where the exchange goes, as the driver chose it
//   bool prepare_head(http::request&, const http::body_framing&, http::proxy_credentials,
//                     const policy::downstream_facts&, const target&);
//       the fields this hop writes; false when the head cannot be forwarded
//   bool use_idle(const target&);     a pooled connection, when one is there
//   void open(const target&);  asio::awaitable<std::error_code> connect(const target&);
//   void queue_head(const http::request&);
//   head_step next_head(http::proxy_credentials);   the next (interim or final) head
//   http::response& response();       the interim head `next_head` found
//   bool closed_before_response() const;
//   bool take_response(http::response&, http::proxy_credentials);   the final head
//   http::body_framing response_framing() const;
//   bool lent() const;  void release(bool reusable);
//
// A chain is `policy::chain`, or what runs like one (the test kit records what it does).

#include <asio/awaitable.hpp>
#include <string>
#include <system_error>

#include "gantry/http/body_framing.hpp"
#include "gantry/http/hop_by_hop.hpp"
#include "gantry/http/status.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/exchange.hpp"
#include "transfer.hpp"

namespace gantry::detail {

template <class Downstream, class Upstream, class Chain = policy::chain>
class exchange_flow {
 public:
  // `scratch` is the connection's working string, shared with its codecs.
  exchange_flow(policy::exchange& ex, Downstream& down, Upstream& up, std::string& scratch)
      : exchange_{ex}, down_{&down}, upstream_{up}, scratch_{scratch} {}
  exchange_flow(const exchange_flow&) = delete;
  exchange_flow& operator=(const exchange_flow&) = delete;

  // The downstream port from now on: a connection's state (with this flow) serves one
  // connection after another.
  void bind(Downstream& down) noexcept { down_ = &down; }

  // The chain of the exchange about to run, which outlives it, and what forwarding does with
  // Proxy-Authorization and Proxy-Authenticate.
  void use(const Chain& chain, http::proxy_credentials credentials) noexcept {
    chain_ = &chain;
    credentials_ = credentials;
  }

  // The request head's phase, then `action()` (an `asio::awaitable<after>`: the route's
  // answer, or `forward`) unless a policy answered. Not a coroutine itself: with no policy to
  // run, it returns the action's, and the exchange has one frame less.
  template <class Action>
  asio::awaitable<after> run(Action action) {
    if (chain_->empty()) return action();
    return run_policies(std::move(action));
  }
  // Sends the request to `to` and relays the answer: the request body through its phase,
  // the response through the response phases. A pooled connection that turns out dead
  // before it took the request is replaced once by a fresh one. (`to` is a copy: the
  // coroutine outlives its caller's temporaries.)
  asio::awaitable<after> forward(typename Upstream::target to);
  // Sends the local response in the exchange through the response phases; `close` ends the
  // connection with it.
  asio::awaitable<after> send_local(bool close);
  // The gateway's own error answer, through the policies, unless the response has begun.
  // Error answers are cold: the compiler then lays the paths that call them out of the way
  // of the request path's code (about 1 % more requests per CPU-second).
  [[gnu::cold]] asio::awaitable<void> fail(http::status status);
  // The answer to a failed exchange, as `status_for` maps its error; none when the client
  // is gone.
  [[gnu::cold]] asio::awaitable<void> fail(std::error_code ec);
  // `fail`, then the connection closes.
  [[gnu::cold]] asio::awaitable<after> refuse(std::error_code ec);
  // Closes an upstream connection the exchange did not end cleanly, and runs the log phase.
  void end() noexcept;

 private:
  template <class Action>
  asio::awaitable<after> run_policies(Action action);
  // The upstream's response head is read: through the response phases to the client.
  asio::awaitable<after> relay_response();

  policy::exchange& exchange_;
  Downstream* down_;
  Upstream& upstream_;
  std::string& scratch_;
  const Chain* chain_ = nullptr;
  http::proxy_credentials credentials_ = http::proxy_credentials::remove;
};

}  // namespace gantry::detail
