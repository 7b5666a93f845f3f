#pragma once
// One exchange from its request head to its log line: routing, the policy phases, the
// upstream choice, the body pumps both ways and the log phase. It reads no HTTP/1 framing,
// parser or wire string: the request side is a downstream port (the HTTP/1 server codec
// today; an HTTP/2 stream would be another), the upstream side the HTTP/1 client codec.
//
// A downstream port offers, besides being a body pump's source (the request body) and sink
// (the response body, see body_pump.hpp):
//   http::body_framing request_framing() const;   how the request body arrives
//   bool request_complete() const;                 the request body was read whole
//   std::uint64_t request_bytes() const;           of the request, as received
//   asio::awaitable<std::error_code> send_interim(http::response&);   a 1xx to pass on
//   void queue_response_head(http::response&, const http::body_framing&, bool close);
//       the upstream's head, its body to follow framed as `framing` says it arrives
//   void queue_local_head(http::response&, std::size_t body_size, bool close);
//   bool response_started() const;   a response head is queued or sent
//   bool retract_response_head();    un-queues a head when nothing of it was sent
//   bool closes_after() const;       the connection ends with this exchange
// It frames what it is given for its own connection, answers Expect, and counts the bytes
// it writes in `exchange().response_bytes`.

#include <array>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "gantry/core/coarse_clock.hpp"
#include "gantry/http/request.hpp"
#include "gantry/http/status.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/route/captures.hpp"
#include "http1_client.hpp"
#include "transfer.hpp"

namespace gantry::detail {

class worker;
struct route_entry;
struct worker_view;

template <class Downstream>
class exchange_driver {
 public:
  using clock = core::coarse_clock;

  // `out` and `scratch` are the connection's working strings, shared with its codecs.
  exchange_driver(worker& owner, Downstream& down, std::string& out, std::string& scratch);
  exchange_driver(const exchange_driver&) = delete;
  exchange_driver& operator=(const exchange_driver&) = delete;

  policy::exchange& exchange() noexcept { return exchange_; }

  // Begins an exchange on `head` (taken by swapping buffers) and picks its route, on the
  // newest configuration.
  void begin(http::request& head);
  // The request head's policies, then the route's action. Not a coroutine itself: with no
  // policy to run, it returns the action's, and the exchange has one frame less.
  asio::awaitable<after> run();
  // The gateway's own error answer, through the policies, unless the response has begun.
  // Error answers are cold: the compiler then lays the paths that call them out of the way
  // of the request path's code (about 1 % more requests per CPU-second).
  [[gnu::cold]] asio::awaitable<void> fail(http::status status);
  // The answer to a failed exchange, as `status_for` maps its error; none when the client
  // is gone.
  [[gnu::cold]] asio::awaitable<void> fail(std::error_code ec);
  // Closes an upstream connection the exchange did not end cleanly, and runs the log phase.
  void end() noexcept;

  void enforce_deadlines(clock::time_point now) noexcept { upstream_.enforce_deadline(now); }
  void close() noexcept { upstream_.close(); }

 private:
  asio::awaitable<after> run_policies();
  // The route's action: a local answer, or the proxy flow. Not a coroutine either.
  asio::awaitable<after> route_exchange();
  // `endpoint`, when given, is the cluster's endpoint to use instead of its balancer's pick.
  asio::awaitable<after> forward(std::uint32_t cluster,
                                 std::optional<std::size_t> endpoint = std::nullopt);
  // The upstream's response head is read: through the response phases to the client.
  asio::awaitable<after> relay_response();
  // Sends the local response in `exchange_` through the response phases; `close` ends the
  // connection with it.
  asio::awaitable<after> send_local(bool close);
  [[gnu::cold]] asio::awaitable<after> refuse(std::error_code ec);
  // Path and Host rewrites of the route, on the request about to go upstream.
  void apply_rewrites();

  worker& owner_;
  Downstream& down_;
  std::string& scratch_;
  // The configuration of the current (or last) exchange, kept until the next one starts.
  std::shared_ptr<worker_view> view_;
  const route_entry* entry_ = nullptr;
  // Reused for every exchange on the connection: its buffers stop growing.
  policy::exchange exchange_;
  route::captures captures_;
  std::array<policy::route_param, route::captures::capacity> params_{};
  // The target as received: captures view it while policies may rewrite the request's.
  std::string matched_target_;
  http1_client upstream_;
  std::uint32_t endpoint_ = 0;  // the pool's slot for the chosen endpoint
};

}  // namespace gantry::detail
