#include "worker.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <cstdio>
#include <exception>
#include <new>
#include <optional>

#include "../net/tls_client_session.hpp"
#include "../net/tls_stream.hpp"
#include "gantry/core/async.hpp"
#include "session.hpp"

namespace gantry::detail {
namespace {

using core::use_tuple;

}  // namespace

void worker::report_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "gantry: connection ended by an exception: %s\n", ex.what());
  } catch (...) {
    std::fputs("gantry: connection ended by an unknown exception\n", stderr);
  }
}

worker::worker(asio::any_io_executor executor, std::shared_ptr<const snapshot> config,
               gateway_options options, std::size_t index,
               std::shared_ptr<connection_budget> budget)
    : executor_{executor},
      options_{options},
      budget_{std::move(budget)},
      index_{static_cast<std::uint32_t>(index)},
      own_binding_{.name = {}, .tls = {}, .client = options_.client},
      pool_{executor, 0, options.upstream.pool},
      random_{options.random_seed != 0 ? options.random_seed + index : std::random_device{}()},
      tick_timer_{executor} {
  publish(std::move(config));
}

void worker::publish(std::shared_ptr<const snapshot> config) {
  auto view = std::make_shared<worker_view>();
  for (std::size_t ci = 0; ci < config->clusters.size(); ++ci) {
    const upstream::cluster& c = config->clusters[ci];
    const auto& tls = config->settings_of_clusters[ci];
    for (std::size_t ei = 0; ei < c.endpoints.size(); ++ei) {
      const upstream::endpoint& e = c.endpoints[ei];
      const std::string& name = config->tls_server_name[config->first_endpoint[ci] + ei];
      // Connections made with other TLS settings, or verified for another name, never serve
      // this endpoint.
      auto known = std::find_if(pool_addresses_.begin(), pool_addresses_.end(),
                                [&](const pool_key& k) {
                                  return k.address == e.address && k.tls == tls &&
                                         k.server_name == name;
                                });
      if (known != pool_addresses_.end()) {
        view->pool_slot.push_back(static_cast<std::uint32_t>(known - pool_addresses_.begin()));
      } else {
        pool_addresses_.push_back({.address = e.address, .tls = tls, .server_name = name});
        view->pool_slot.push_back(pool_.add_endpoint());
      }
    }
    // Workers start their balancers at different offsets so that together they spread load
    // from the first request on.
    view->balancers.emplace_back(index_);
  }
  view->config = std::move(config);
  view_ = std::move(view);
}

worker::~worker() = default;

net::tls_client_session& worker::upstream_session(std::uint32_t slot) {
  auto& session = pool_addresses_[slot].session;
  if (!session) session = std::make_unique<net::tls_client_session>();
  return *session;
}

void worker::listen(asio::ip::tcp::acceptor acceptor, listener_binding binding) {
  if (draining_) {  // stopped before it started
    std::error_code ignored;
    acceptor.close(ignored);
    return;
  }
  listeners_.push_back(std::make_unique<listener>(listener{.acceptor = std::move(acceptor),
                                                          .slot_freed = asio::steady_timer{executor_},
                                                          .binding = std::move(binding)}));
  asio::co_spawn(executor_, accept_loop(shared_from_this(), *listeners_.back()), report_exception);
  start_ticking();
}

void worker::start_ticking() {
  if (ticking_) return;
  ticking_ = true;
  asio::co_spawn(executor_, tick_loop(shared_from_this()), report_exception);
}

void worker::stop() {
  if (draining_) return;
  draining_ = true;
  drain_deadline_ = clock::now() + options_.drain_timeout;
  for (auto& l : listeners_) {
    std::error_code ignored;
    l->acceptor.close(ignored);
    l->slot_freed.cancel();
  }
  for (session_base* s = sessions_; s != nullptr; s = s->next) s->close_if_idle();
  pool_.clear();
}

void worker::abort() {
  stop();
  for (session_base* s = sessions_; s != nullptr; s = s->next) s->close();
  tick_timer_.cancel();
}

std::unique_ptr<char[]> worker::take_buffer() {
  if (spare_buffers_.empty()) return std::make_unique_for_overwrite<char[]>(options_.buffer_size);
  auto buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

void worker::give_state(std::unique_ptr<pooled_state> state) {
  // As for buffers: enough spares for a burst.
  if (spare_states_.size() < 256) spare_states_.push_back(std::move(state));
}

void worker::give_buffer(std::unique_ptr<char[]> buffer) {
  // Keep enough spares for a burst, not a high-water mark's worth forever.
  if (spare_buffers_.size() < 256) spare_buffers_.push_back(std::move(buffer));
}

void worker::serve(net::tcp_stream client) {
  std::error_code ignored;
  client.socket().set_option(asio::ip::tcp::no_delay{true}, ignored);
  admit(std::move(client));
}

void worker::attach(session_base& s) noexcept {
  s.prev = nullptr;
  s.next = sessions_;
  if (sessions_ != nullptr) sessions_->prev = &s;
  sessions_ = &s;
  ++connection_count_;
}

void worker::detach(session_base& s) noexcept {
  if (s.prev != nullptr)
    s.prev->next = s.next;
  else
    sessions_ = s.next;
  if (s.next != nullptr) s.next->prev = s.prev;
  --connection_count_;
  budget_->give_back();
  for (auto& l : listeners_)
    if (l->waiting_for_slot) l->slot_freed.cancel();
}

asio::awaitable<void> worker::accept_loop([[maybe_unused]] std::shared_ptr<worker> self,
                                          listener& on) {
  for (;;) {
    if (connection_count_ >= options_.client.max_connections) {
      // Leave further clients in the kernel's accept queue until one of ours ends.
      const bool open = co_await wait_for_slot(on, asio::steady_timer::time_point::max());
      if (!open) co_return;
      continue;
    }
    auto [ec, socket] = co_await on.acceptor.async_accept(use_tuple);
    if (ec) {
      if (draining_ || !on.acceptor.is_open()) co_return;
      // Out of descriptors or a connection reset before accept: pause instead of spinning.
      asio::steady_timer pause{executor_, std::chrono::milliseconds{50}};
      co_await pause.async_wait(use_tuple);
      continue;
    }
    // The gateway-wide cap is taken after the accept, so that workers parked in accept cannot
    // pass it together; a client over it waits connected but unread, as in the accept queue.
    // A connection of this worker ending wakes it; another worker's is seen a tick later.
    while (!budget_->try_take()) {
      const bool open = co_await wait_for_slot(
          on, asio::steady_timer::clock_type::now() + options_.timer_resolution);
      if (!open) co_return;
    }
    std::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay{true}, ignored);
    // The session gives the budget's unit back when it detaches.
    if (on.binding.tls.empty())
      start_session(net::tcp_stream{std::move(socket)}, on.binding);
    else
      start_tls_session(net::tcp_stream{std::move(socket)}, on.binding);
  }
}

void worker::start_tls_session(net::tcp_stream client, const listener_binding& binding) {
  // The newest TLS settings of that name: a reload's renewed certificate serves new
  // connections from now on.
  const auto* context = view_->config->tls_context(binding.tls);
  if (context == nullptr) {  // only while a listen() races a reload (see exchange_driver)
    budget_->give_back();
    return client.close();
  }
  std::optional<net::tls_stream<net::tcp_stream>> tls;
  try {
    tls.emplace(std::move(client), *context);
  } catch (const std::bad_alloc&) {  // mbedTLS's record buffers: shed this connection
    budget_->give_back();
    return;
  }
  start_session(std::move(*tls), binding);
}

asio::awaitable<bool> worker::wait_for_slot(listener& on, asio::steady_timer::time_point until) {
  on.waiting_for_slot = true;
  on.slot_freed.expires_at(until);
  co_await on.slot_freed.async_wait(use_tuple);
  on.waiting_for_slot = false;
  co_return !draining_;
}

asio::awaitable<void> worker::tick_loop([[maybe_unused]] std::shared_ptr<worker> self) {
  for (;;) {
    tick_timer_.expires_after(options_.timer_resolution);
    co_await tick_timer_.async_wait(use_tuple);
    if (draining_ && sessions_ == nullptr) break;
    const auto now = clock::now();
    // Enforcing a deadline only closes or cancels sockets; sessions leave the list later,
    // from their own coroutines, so walking the list here is safe.
    for (session_base* s = sessions_; s != nullptr; s = s->next) s->enforce_deadlines(now);
    if (draining_) {
      if (now >= drain_deadline_)
        for (session_base* s = sessions_; s != nullptr; s = s->next) s->close();
      if (sessions_ == nullptr) break;
    }
    pool_.sweep(now);
  }
  pool_.clear();
  ticking_ = false;
}

}  // namespace gantry::detail
