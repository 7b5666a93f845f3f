#pragma once
/// @file
/// The gateway: listeners, workers, clusters and the proxy flow, assembled.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/gateway/config.hpp"
#include "gantry/gateway/options.hpp"

namespace gantry {

namespace testing {
class memory_stream;
}

/// An HTTP/1.1 gateway: routes, policy chains and upstream clusters, assembled.
///
/// It runs either on worker threads of its own (one `io_context`, one SO_REUSEPORT acceptor
/// and one upstream pool per thread; nothing shared on the request path), or as a single
/// worker inside an `io_context` the host program already runs.
///
/// ```
/// asio::io_context io;                         // the host's own context
/// gantry::gateway gw{io};
/// gw.cluster("users", {"10.0.0.7:8080", "10.0.0.8:8080"});
/// gw.policy("ids", gantry::policy::chain{}.add(gantry::policy::request_id_config{}));
/// gw.use("ids");                               // on every exchange
/// gw.route({.name = "users",
///           .match = {.path = gantry::route::path_template{"/users/{id}"}},
///           .action = gantry::route::proxy{"users"}});
/// gw.listen("0.0.0.0:8080");
/// io.run();
/// ```
///
/// What it serves is one immutable snapshot compiled from a `gateway_config`. `reload`
/// replaces it while the gateway runs: each worker switches to the new snapshot between two
/// of its event-loop turns, every exchange runs start to end on the snapshot it began with,
/// and no connection is dropped. A config that does not compile leaves the running one as
/// it is.
class gateway {
 public:
  /// A gateway that will run `options.workers` threads of its own once `start()` is called.
  explicit gateway(gateway_options options = {});
  /// A gateway with one worker on the host's `io_context`; it serves while the host runs it.
  explicit gateway(asio::io_context& host, gateway_options options = {});
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Declares a cluster of "host:port" endpoints, resolved now. Without routes, requests
  /// go to the first cluster declared. Throws `std::invalid_argument` on a bad address.
  gateway& cluster(std::string name, const std::vector<std::string>& endpoints);
  /// Declares a route; routes match in the precedence `route::route_table` documents.
  gateway& route(route::route r);
  /// Declares a named policy (or a short chain) for routes and `use` to refer to.
  gateway& policy(std::string name, policy::chain chain);
  /// Runs the named policy on every exchange, before the route's own, in the order of calls.
  gateway& use(std::string policy_name);
  /// Replaces everything declared so far with `config`.
  gateway& configure(gateway_config config);
  /// A copy of the configuration declared so far, or last reloaded. It is taken under the
  /// lock `reload` holds, so any thread may call it while another reloads, and it is always
  /// one whole configuration, never half of one and half of the next. The copy shares the
  /// policy objects of its chains with the gateway (they are immutable), so it is cheap:
  /// change it and pass it to `reload` to serve the change.
  gateway_config config() const;

  /// Compiles `config` and makes it what the gateway serves, from any thread, while it
  /// runs; before `listen()` it only replaces the declared configuration. Throws
  /// `std::invalid_argument` listing every problem (unknown cluster or policy, conflicting
  /// routes, bad addresses), and then nothing changes.
  void reload(gateway_config config);
  /// How many configurations the gateway has served: 1 after `listen()`, then one more per
  /// successful `reload`.
  std::uint64_t generation() const noexcept;

  /// Binds "host:port" (port 0 picks a free one) and starts serving on it: at once on a host
  /// context, or when `start()` runs the workers (or at once, when they already run). Call it
  /// once per address to serve: every worker accepts on every address. Without a name in
  /// `options`, the address serves the gateway's routes; with one, the routes and policies of
  /// that `gateway_config::listeners` entry (an admin port on the same workers). The first
  /// call compiles the configuration. Returns the bound endpoint. Throws `std::system_error`
  /// when the address cannot be bound, `std::invalid_argument` when no listener has the name.
  asio::ip::tcp::endpoint listen(std::string_view address, listener_options options = {});

  /// Serves one client connection the host accepted itself (its own acceptor, a socket
  /// handed over by a supervisor), as if a listener had accepted it: counted against
  /// `max_total_connections` (closed at once when that is reached), served until it ends.
  /// Only on a gateway that runs on the host's io_context, whose executor the socket must
  /// use; throws `std::logic_error` otherwise. Compiles the configuration if `listen()` has
  /// not.
  void serve(asio::ip::tcp::socket client);
  /// Serves an in-memory connection from the test kit (`gantry/testing/memory_stream.hpp`),
  /// so a test drives the real exchange flow without sockets. Only on a gateway that runs on
  /// the host's io_context, whose executor the stream must use; throws `std::logic_error`
  /// otherwise.
  void serve(testing::memory_stream client);

  /// Starts the worker threads (own-thread mode); returns at once.
  void start();
  /// Graceful stop, callable from any thread: stop accepting, let exchanges in flight finish
  /// within `drain_timeout`, then close every connection.
  void stop();
  /// Blocks until every worker thread has ended after `stop()` (own-thread mode).
  void wait();

  const gateway_options& options() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace gantry
