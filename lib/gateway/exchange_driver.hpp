#pragma once
// One exchange as the gateway runs it: the route chosen on the newest configuration, the
// route's action (a local answer, or an upstream chosen by balancer, split or policy), and
// the exchange's flow (exchange_flow.hpp) from the downstream port to the HTTP/1 client
// codec as its upstream port.

#include <array>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "exchange_flow.hpp"
#include "gantry/core/coarse_clock.hpp"
#include "gantry/http/request.hpp"
#include "gantry/http/status.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/route/action.hpp"
#include "gantry/route/captures.hpp"
#include "http1_client.hpp"
#include "transfer.hpp"

namespace gantry::detail {

class worker;
struct route_entry;
struct route_set;
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
  // The downstream port from now on (see exchange_flow::bind).
  void bind(Downstream& down) noexcept { flow_.bind(down); }
  // Exchanges from now on take the routes of the listener named `name` (empty: the gateway's
  // own); `name` outlives them.
  void serve_listener(std::string_view name) noexcept {
    if (name == listener_) return;
    listener_ = name;
    routes_ = nullptr;
  }

  // Begins an exchange on `head` (taken by swapping buffers) and picks its route, on the
  // newest configuration.
  void begin(http::request& head);
  // The request head's policies, then the route's action.
  asio::awaitable<after> run() {
    return flow_.run([this] { return route_exchange(); });
  }
  // The gateway's own error answer (see `exchange_flow::fail`).
  asio::awaitable<void> fail(http::status status) { return flow_.fail(status); }
  // Closes an upstream connection the exchange did not end cleanly, and runs the log phase.
  void end() noexcept {
    upstream_.bound_by(clock::time_point::max());
    flow_.end();
  }

  void enforce_deadlines(clock::time_point now) noexcept { upstream_.enforce_deadline(now); }
  void close() noexcept { upstream_.close(); }
  // An upstream connection is still lent to the exchange (it did not end).
  bool upstream_lent() const noexcept { return upstream_.lent(); }

 private:
  // The route's action: a local answer, or the proxy flow. Not a coroutine.
  asio::awaitable<after> route_exchange();
  // `endpoint`, when given, is the cluster's endpoint to use instead of its balancer's pick.
  asio::awaitable<after> forward(std::uint32_t cluster,
                                 std::optional<std::size_t> endpoint = std::nullopt);
  // Path and Host rewrites of the route, on the request about to go upstream.
  void apply_rewrites();
  // A `to_https` redirect's Location, into `scratch_`.
  void https_location(const route::redirect& to);

  worker& owner_;
  std::string& scratch_;
  // The configuration of the current (or last) exchange, kept until the next one starts.
  std::shared_ptr<worker_view> view_;
  std::string_view listener_;
  const route_set* routes_ = nullptr;  // the listener's, in `view_`
  const route_entry* entry_ = nullptr;
  // Reused for every exchange on the connection: its buffers stop growing.
  policy::exchange exchange_;
  route::captures captures_;
  std::array<policy::route_param, route::captures::capacity> params_{};
  // The target as received: captures view it while policies may rewrite the request's.
  std::string matched_target_;
  http1_client upstream_;
  exchange_flow<Downstream, http1_client> flow_;
};

}  // namespace gantry::detail
