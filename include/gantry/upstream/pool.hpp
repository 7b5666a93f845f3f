#pragma once
/// @file
/// Per-worker keep-alive pool of upstream connections.

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "gantry/upstream/connection.hpp"

namespace gantry::upstream {

/// How a pool keeps connections. Defaults follow NGINX's `keepalive` module in spirit:
/// a bounded idle set per endpoint, aged out, and recycled after many requests.
struct pool_options {
  /// Idle connections kept per endpoint; more are closed on release.
  std::size_t max_idle_per_endpoint = 64;
  /// An idle connection older than this is closed rather than reused: upstreams close idle
  /// connections too (NGINX after 75 s), and reusing one that is closing costs a retry.
  std::chrono::milliseconds idle_timeout{30'000};
  /// Exchanges after which a connection is closed (NGINX: 1000), so that long-lived
  /// connections do not pin an upstream's memory forever.
  std::uint32_t max_exchanges_per_connection = 1000;
};

/// Idle upstream connections of one worker, per endpoint. Single-threaded by design: each
/// worker owns one, so taking and returning a connection costs no lock.
///
/// A connection comes back with `release(conn, reusable)`; only one whose last exchange ended
/// cleanly (complete response, nothing extra received, keep-alive on both sides) may be
/// released as reusable. Everything else is closed.
class pool {
 public:
  using clock = connection::clock;

  pool(asio::any_io_executor executor, std::size_t endpoint_count, pool_options options = {});
  ~pool();
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  /// Adds a slot for one more endpoint and returns its index (the next after the last one):
  /// a configuration reload that brings new endpoints grows the pool, and the connections
  /// to endpoints it keeps stay pooled.
  std::uint32_t add_endpoint();

  /// The most recently used idle connection to endpoint `index` that is still within its
  /// idle timeout, or null. Expired ones met on the way are closed.
  std::unique_ptr<connection> take_idle(std::uint32_t index, clock::time_point now);
  /// A new, unconnected connection object for endpoint `index`.
  std::unique_ptr<connection> make_connection(std::uint32_t index) const;
  /// Returns a connection after an exchange.
  void release(std::unique_ptr<connection> conn, bool reusable, clock::time_point now);
  /// Closes idle connections past their idle timeout.
  void sweep(clock::time_point now);
  /// Closes every idle connection.
  void clear();

  std::size_t idle_count(std::uint32_t index) const noexcept { return idle_[index].size(); }
  std::size_t idle_count() const noexcept;
  const pool_options& options() const noexcept { return options_; }

 private:
  asio::any_io_executor executor_;
  pool_options options_;
  // Per endpoint, oldest first: taking from the back reuses the warmest connection and
  // lets the cold ones at the front age out.
  std::vector<std::vector<std::unique_ptr<connection>>> idle_;
};

}  // namespace gantry::upstream
