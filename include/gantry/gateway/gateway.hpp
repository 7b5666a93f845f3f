#pragma once
/// @file
/// The gateway: listeners, workers, clusters and the proxy flow, assembled.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/gateway/options.hpp"

namespace gantry {

/// An HTTP/1.1 gateway that proxies every request to a cluster of upstream servers.
///
/// It runs either on worker threads of its own (one `io_context`, one SO_REUSEPORT acceptor
/// and one upstream pool per thread; nothing shared on the request path), or as a single
/// worker inside an `io_context` the host program already runs.
///
/// ```
/// asio::io_context io;                         // the host's own context
/// gantry::gateway gw{io};
/// gw.cluster("users", {"10.0.0.7:8080", "10.0.0.8:8080"});
/// gw.listen("0.0.0.0:8080");
/// io.run();
/// ```
class gateway {
 public:
  /// A gateway that will run `options.workers` threads of its own once `start()` is called.
  explicit gateway(gateway_options options = {});
  /// A gateway with one worker on the host's `io_context`; it serves while the host runs it.
  explicit gateway(asio::io_context& host, gateway_options options = {});
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Declares a cluster of "host:port" endpoints, resolved now. Until routes exist, requests
  /// go to the first cluster declared. Throws `std::invalid_argument` on a bad address.
  gateway& cluster(std::string name, const std::vector<std::string>& endpoints);

  /// Binds "host:port" (port 0 picks a free one) and starts serving on it: at once on a host
  /// context, or when `start()` runs the workers. Returns the bound endpoint. Throws
  /// `std::system_error` when the address cannot be bound.
  asio::ip::tcp::endpoint listen(std::string_view address);

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
