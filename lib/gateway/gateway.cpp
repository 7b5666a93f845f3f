#include "gantry/gateway/gateway.hpp"

#include <asio/post.hpp>
#include <optional>
#include <stdexcept>
#include <thread>

#include "gantry/net/address.hpp"
#include "gantry/net/listener.hpp"
#include "snapshot.hpp"
#include "worker.hpp"

namespace gantry {

struct gateway::state {
  gateway_options options;
  asio::io_context* host = nullptr;
  std::shared_ptr<detail::snapshot> config = std::make_shared<detail::snapshot>();
  std::vector<std::unique_ptr<asio::io_context>> contexts;  // own-thread mode
  std::vector<std::shared_ptr<detail::worker>> workers;
  std::vector<asio::ip::tcp::acceptor> pending_acceptors;  // bound, waiting for start()
  std::vector<std::thread> threads;
  bool listening = false;
};

gateway::gateway(gateway_options options) : state_{std::make_unique<state>()} {
  state_->options = options;
  if (state_->options.workers == 0)
    state_->options.workers = std::max(1u, std::thread::hardware_concurrency());
}

gateway::gateway(asio::io_context& host, gateway_options options)
    : state_{std::make_unique<state>()} {
  state_->options = options;
  state_->options.workers = 1;
  state_->host = &host;
}

gateway::~gateway() {
  if (!state_->threads.empty()) {
    stop();
    wait();
  }
  // On a host context, whatever still runs ends now; the host destroys the gateway on the
  // context's thread (or after the context stopped), as with any Asio object.
  if (state_->host != nullptr)
    for (auto& w : state_->workers) w->abort();
}

gateway& gateway::cluster(std::string name, const std::vector<std::string>& endpoints) {
  if (state_->listening) throw std::logic_error("gateway: declare clusters before listen()");
  state_->config->add(upstream::cluster::from_addresses(std::move(name), endpoints));
  return *this;
}

asio::ip::tcp::endpoint gateway::listen(std::string_view address) {
  state& s = *state_;
  if (s.config->clusters.empty())
    throw std::logic_error("gateway: declare a cluster before listen()");
  if (s.listening) throw std::logic_error("gateway: listen() may be called once");
  auto requested = net::resolve_one(address);
  std::shared_ptr<const detail::snapshot> config = s.config;

  if (s.host != nullptr) {
    auto acceptor = net::make_listener(s.host->get_executor(), requested);
    auto bound = acceptor.local_endpoint();
    s.workers.push_back(
        std::make_shared<detail::worker>(s.host->get_executor(), config, s.options, 0));
    s.workers.back()->start(std::move(acceptor));
    s.listening = true;
    return bound;
  }

  // One acceptor per worker on the same address; with port 0 the first picks the port.
  auto bound = requested;
  for (unsigned i = 0; i < s.options.workers; ++i) {
    // Each context is run by one thread and its sockets are touched by that thread only, so
    // the reactor can skip its per-socket locks; posting to it from elsewhere stays safe.
    s.contexts.push_back(std::make_unique<asio::io_context>(ASIO_CONCURRENCY_HINT_UNSAFE_IO));
    auto executor = s.contexts.back()->get_executor();
    s.pending_acceptors.push_back(net::make_listener(executor, bound));
    if (i == 0) bound = s.pending_acceptors.back().local_endpoint();
    s.workers.push_back(std::make_shared<detail::worker>(executor, config, s.options, i));
  }
  s.listening = true;
  return bound;
}

void gateway::start() {
  state& s = *state_;
  if (s.host != nullptr) return;  // the host's context runs the worker
  if (!s.listening) throw std::logic_error("gateway: listen() before start()");
  if (!s.threads.empty()) return;
  for (std::size_t i = 0; i < s.workers.size(); ++i) {
    auto w = s.workers[i];
    asio::post(*s.contexts[i], [w, acceptor = std::move(s.pending_acceptors[i])]() mutable {
      w->start(std::move(acceptor));
    });
    s.threads.emplace_back([context = s.contexts[i].get()] { context->run(); });
  }
  s.pending_acceptors.clear();
}

void gateway::stop() {
  for (auto& w : state_->workers) asio::post(w->executor(), [target = w] { target->stop(); });
}

void gateway::wait() {
  for (auto& t : state_->threads)
    if (t.joinable()) t.join();
  state_->threads.clear();
}

const gateway_options& gateway::options() const noexcept { return state_->options; }

}  // namespace gantry
