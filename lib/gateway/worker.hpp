#pragma once
// One worker: a thread's share of the gateway. It owns its acceptor, its upstream pool, its
// balancer positions and its connections; only its own thread touches any of them.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "connection_budget.hpp"
#include "gantry/core/coarse_clock.hpp"
#include "gantry/gateway/options.hpp"
#include "gantry/net/tcp_stream.hpp"
#include "gantry/net/tls_settings.hpp"
#include "gantry/upstream/pool.hpp"
#include "gantry/upstream/round_robin.hpp"
#include "session.hpp"
#include "snapshot.hpp"

namespace gantry::testing {
class memory_stream;
}
namespace gantry::net {
class tls_client_session;
}

namespace gantry::detail {

// A worker's own view of one snapshot: where its endpoints sit in the worker's pool and the
// balancers' positions. Only the worker's thread touches it; sessions hold it for as long
// as an exchange of theirs uses the snapshot.
struct worker_view {
  std::shared_ptr<const snapshot> config;
  std::vector<std::uint32_t> pool_slot;          // by the snapshot's endpoint number
  std::vector<upstream::round_robin> balancers;  // by cluster
};

class worker : public std::enable_shared_from_this<worker> {
 public:
  using clock = core::coarse_clock;

  // Coroutines of the worker hold it by shared_ptr, so it outlives its connections even when
  // the gateway is gone first (a host context may destroy their frames later).
  worker(asio::any_io_executor executor, std::shared_ptr<const snapshot> config,
         gateway_options options, std::size_t index, std::shared_ptr<connection_budget> budget);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// Accepts on `acceptor` from now on, besides the listeners it already serves, and ticks
  /// deadlines; its connections are served as `binding` says. Call on the worker's thread.
  void listen(asio::ip::tcp::acceptor acceptor, listener_binding binding);
  /// Serves a client connection that arrived some other way than through a listener, as the
  /// gateway's own routes, counted against the gateway's connection cap (closed at once when
  /// it is reached). Call on the worker's thread. The in-memory overload is defined with the test kit.
  void serve(net::tcp_stream client);
  void serve(testing::memory_stream client);
  /// Stops accepting and drains. Call on the worker's thread.
  void stop();
  /// Stops at once: closes the acceptor and every connection. Call on the worker's thread.
  void abort();

  const gateway_options& options() const noexcept { return options_; }
  /// The newest configuration's view; a session copies it when it starts an exchange.
  const std::shared_ptr<worker_view>& view() const noexcept { return view_; }
  /// Makes `config` the configuration of exchanges that start from now on. Call on the
  /// worker's thread.
  void publish(std::shared_ptr<const snapshot> config);
  asio::any_io_executor executor() const noexcept { return executor_; }
  upstream::pool& pool() noexcept { return pool_; }
  // The TLS session last established with a pool slot's upstream, which its next connection
  // offers to resume.
  net::tls_client_session& upstream_session(std::uint32_t slot);
  /// Draws for weighted splits; per worker, so no lock.
  std::mt19937_64& random() noexcept { return random_; }
  std::uint32_t index() const noexcept { return index_; }
  bool draining() const noexcept { return draining_; }
  // Counts a connection event when the gateway has a registry to count into.
  void count(policy::connection_event event) const noexcept {
    if (options_.metrics) options_.metrics->count(index_, event);
  }

  // Read buffers are recycled through the worker so a request allocates none.
  std::unique_ptr<char[]> take_buffer();
  void give_buffer(std::unique_ptr<char[]> buffer);
  // So are connection states: a spare of type `State`, or null when there is none.
  template <class State>
  std::unique_ptr<State> take_state() noexcept {
    for (auto it = spare_states_.end(); it != spare_states_.begin();) {
      --it;
      if ((*it)->kind() == &state_kind<State>) {
        std::unique_ptr<State> state{static_cast<State*>(it->release())};
        spare_states_.erase(it);
        return state;
      }
    }
    return nullptr;
  }
  void give_state(std::unique_ptr<pooled_state> state);

  // Sessions register themselves so the tick can enforce their deadlines and stop can
  // close them.
  void attach(session_base& s) noexcept;
  void detach(session_base& s) noexcept;

  // Coroutines report errors as values; an exception ending a connection is a bug or memory
  // exhaustion: it is said on stderr and the worker keeps serving.
  static void report_exception(std::exception_ptr e);
  std::size_t connection_count() const noexcept { return connection_count_; }

 private:
  // One listening address as this worker serves it: its acceptor, and a timer that wakes its
  // accept loop when a connection ends while the loop waits for a free slot (a timer of its
  // own: re-arming a shared one would cancel the other loops' waits).
  struct listener {
    asio::ip::tcp::acceptor acceptor;
    asio::steady_timer slot_freed;
    listener_binding binding;  // its connections refer to it while they last
    bool waiting_for_slot = false;
  };

  asio::awaitable<void> accept_loop(std::shared_ptr<worker> self, listener& on);
  // Waits until a connection of this worker ends, `until` passes or the worker drains;
  // false once draining.
  asio::awaitable<bool> wait_for_slot(listener& on, asio::steady_timer::time_point until);
  asio::awaitable<void> tick_loop(std::shared_ptr<worker> self);
  // Starts the loop that enforces deadlines, unless it runs.
  void start_ticking();
  // Runs a session on a connection whose budget unit is taken.
  template <class Stream>
  void start_session(Stream client, const listener_binding& binding) {
    count(policy::connection_event::accepted);
    asio::co_spawn(executor_, serve_connection(shared_from_this(), &binding, std::move(client)),
                   report_exception);
  }
  // Sets TLS up on an accepted connection with its listener's settings, then serves it.
  void start_tls_session(net::tcp_stream client, const listener_binding& binding);
  // Serves a connection that came from elsewhere than an acceptor: it takes a unit of the
  // connection budget first, and is closed when none is left or the worker drains.
  template <class Stream>
  void admit(Stream client) {
    if (draining_ || !budget_->try_take()) return client.close();
    start_ticking();
    start_session(std::move(client), own_binding_);
  }

  asio::any_io_executor executor_;
  const gateway_options options_;
  const std::shared_ptr<connection_budget> budget_;
  const std::uint32_t index_;
  // How connections that came from elsewhere than a listener are served.
  const listener_binding own_binding_;
  // Accept loops hold references to their listener: each stays where it was made.
  std::vector<std::unique_ptr<listener>> listeners_;
  upstream::pool pool_;
  // What each pool slot connects to, in slot order: an endpoint and the TLS settings of its
  // connections. A reload that keeps both keeps the slot's pooled connections.
  struct pool_key {
    asio::ip::tcp::endpoint address;
    std::optional<net::tls_client_settings> tls;
    std::string server_name;
    std::unique_ptr<net::tls_client_session> session{};  // made on first use
  };
  std::vector<pool_key> pool_addresses_;
  std::shared_ptr<worker_view> view_;
  std::mt19937_64 random_;
  std::vector<std::unique_ptr<char[]>> spare_buffers_;
  asio::steady_timer tick_timer_;
  session_base* sessions_ = nullptr;  // intrusive list of live sessions
  std::size_t connection_count_ = 0;
  bool draining_ = false;
  bool ticking_ = false;
  clock::time_point drain_deadline_{};
  // Last, so they go first: their codecs give buffers and connections back to the above.
  std::vector<std::unique_ptr<pooled_state>> spare_states_;
};

}  // namespace gantry::detail
