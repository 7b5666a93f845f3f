#include "gantry/gateway/gateway.hpp"

#include <sys/resource.h>

#include <asio/post.hpp>
#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "gantry/net/address.hpp"
#include "gantry/net/listener.hpp"
#include "gantry/testing/memory_stream.hpp"
#include "gantry/upstream/cluster.hpp"
#include "snapshot.hpp"
#include "worker.hpp"

namespace gantry {
namespace {

// Descriptors kept back from client and upstream connections: listeners, the admin
// listener, config and log files, the descriptors a reload opens.
constexpr rlim_t reserved_descriptors = 64;

std::size_t connections_the_descriptor_limit_allows() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<std::size_t>::max();
  if (limit.rlim_cur <= reserved_descriptors + 2) return 1;
  return static_cast<std::size_t>((limit.rlim_cur - reserved_descriptors) / 2);
}

gateway_options resolved(gateway_options options, unsigned workers) {
  options.workers = workers;
  if (options.client.max_total_connections == 0)
    options.client.max_total_connections = connections_the_descriptor_limit_allows();
  return options;
}

}  // namespace

struct gateway::state {
  gateway_options options;
  asio::io_context* host = nullptr;
  gateway_config config;    // written and read under reload_mutex
  std::mutex reload_mutex;  // reloads from several threads apply one after the other
  std::atomic<std::uint64_t> generation{0};
  std::vector<std::unique_ptr<asio::io_context>> contexts;  // own-thread mode
  std::vector<std::shared_ptr<detail::worker>> workers;
  // Per worker, the acceptors bound before start(), which hands them over.
  struct pending_listener {
    asio::ip::tcp::acceptor acceptor;
    detail::listener_binding binding;
  };
  std::vector<std::vector<pending_listener>> pending_acceptors;
  std::vector<std::thread> threads;
  // Names of the listeners and TLS settings addresses serve, one entry per address (under
  // reload_mutex): a reload must keep them.
  std::vector<std::string> served_listeners;
  std::vector<std::string> served_tls;

  detail::served_names served() const noexcept {
    return {.listeners = served_listeners, .tls = served_tls};
  }
  bool listening = false;

  // The first listen() compiles the configuration and makes the workers.
  void make_workers() {
    std::shared_ptr<const detail::snapshot> compiled = [&] {
      std::lock_guard lock{reload_mutex};
      return detail::snapshot::compile(config, served());
    }();
    auto budget = std::make_shared<detail::connection_budget>(options.client.max_total_connections);
    if (host != nullptr) {
      workers.push_back(
          std::make_shared<detail::worker>(host->get_executor(), compiled, options, 0, budget));
    } else {
      for (unsigned i = 0; i < options.workers; ++i) {
        // Each context is run by one thread and its sockets are touched by that thread only,
        // so the reactor can skip its per-socket locks; posting to it from elsewhere stays
        // safe.
        contexts.push_back(std::make_unique<asio::io_context>(ASIO_CONCURRENCY_HINT_UNSAFE_IO));
        workers.push_back(std::make_shared<detail::worker>(contexts.back()->get_executor(),
                                                           compiled, options, i, budget));
      }
      pending_acceptors.resize(workers.size());
    }
    listening = true;
    generation = 1;
  }
};

gateway::gateway(gateway_options options) : state_{std::make_unique<state>()} {
  state_->options = resolved(options, options.workers != 0
                                          ? options.workers
                                          : std::max(1u, std::thread::hardware_concurrency()));
}

gateway::gateway(asio::io_context& host, gateway_options options)
    : state_{std::make_unique<state>()} {
  state_->options = resolved(options, 1);
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
  upstream::cluster::from_addresses(name, endpoints);  // bad addresses throw now
  std::lock_guard lock{state_->reload_mutex};
  state_->config.clusters.push_back({.name = std::move(name), .endpoints = endpoints});
  return *this;
}

gateway& gateway::route(route::route r) {
  if (state_->listening) throw std::logic_error("gateway: declare routes before listen()");
  std::lock_guard lock{state_->reload_mutex};
  state_->config.routes.push_back(std::move(r));
  return *this;
}

gateway& gateway::policy(std::string name, policy::chain chain) {
  if (state_->listening) throw std::logic_error("gateway: declare policies before listen()");
  std::lock_guard lock{state_->reload_mutex};
  state_->config.policies.push_back({.name = std::move(name), .chain = std::move(chain)});
  return *this;
}

gateway& gateway::use(std::string policy_name) {
  if (state_->listening) throw std::logic_error("gateway: declare policies before listen()");
  std::lock_guard lock{state_->reload_mutex};
  state_->config.listener_policies.push_back(std::move(policy_name));
  return *this;
}

gateway& gateway::configure(gateway_config config) {
  if (state_->listening) throw std::logic_error("gateway: use reload() once listening");
  std::lock_guard lock{state_->reload_mutex};
  state_->config = std::move(config);
  return *this;
}

gateway_config gateway::config() const {
  std::lock_guard lock{state_->reload_mutex};
  return state_->config;
}

void gateway::reload(gateway_config config) {
  state& s = *state_;
  std::lock_guard lock{s.reload_mutex};
  auto compiled = detail::snapshot::compile(config, s.served());  // throws: no change
  s.config = std::move(config);
  if (!s.listening) return;
  for (auto& w : s.workers)
    asio::post(w->executor(), [target = w, compiled] { target->publish(compiled); });
  s.generation.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t gateway::generation() const noexcept {
  return state_->generation.load(std::memory_order_relaxed);
}

asio::ip::tcp::endpoint gateway::listen(std::string_view address, listener_options options) {
  state& s = *state_;
  const auto requested = net::resolve_one(address);
  {
    // Checked and recorded under the reload lock, so no reload can remove them in between.
    std::lock_guard lock{s.reload_mutex};
    const gateway_config& c = s.config;
    auto declares = [](const auto& entries, const std::string& name) {
      return std::any_of(entries.begin(), entries.end(),
                         [&](const auto& entry) { return entry.name == name; });
    };
    if (!options.name.empty() && !declares(c.listeners, options.name))
      throw std::invalid_argument("gateway: no listener named '" + options.name +
                                  "' is declared (gateway_config::listeners)");
    if (!options.tls.empty() && !declares(c.tls, options.tls))
      throw std::invalid_argument("gateway: no TLS settings named '" + options.tls +
                                  "' are declared (gateway_config::tls)");
    if (!options.name.empty()) s.served_listeners.push_back(options.name);
    if (!options.tls.empty()) s.served_tls.push_back(options.tls);
  }
  if (!s.listening) s.make_workers();
  // Its connection caps are not read: the worker and the budget count every listener's.
  detail::listener_binding binding{.name = std::move(options.name),
                                   .tls = std::move(options.tls),
                                   .client = options.client.value_or(s.options.client)};

  // One acceptor per worker on the same address; with port 0 the first picks the port. All
  // are bound before any is handed over, so an address that fails leaves nothing half-served.
  auto bound = requested;
  std::vector<asio::ip::tcp::acceptor> acceptors;
  try {
    for (const auto& w : s.workers) {
      acceptors.push_back(net::make_listener(w->executor(), bound));
      if (acceptors.size() == 1) bound = acceptors.front().local_endpoint();
    }
  } catch (...) {
    std::lock_guard lock{s.reload_mutex};
    auto forget = [](std::vector<std::string>& served, const std::string& name) {
      if (!name.empty()) served.erase(std::find(served.begin(), served.end(), name));
    };
    forget(s.served_listeners, binding.name);
    forget(s.served_tls, binding.tls);
    throw;
  }
  for (std::size_t i = 0; i < s.workers.size(); ++i) {
    const std::shared_ptr<detail::worker>& w = s.workers[i];
    auto& acceptor = acceptors[i];
    if (s.host != nullptr) {
      w->listen(std::move(acceptor), binding);  // the host's context serves it once it runs
    } else if (s.threads.empty()) {
      s.pending_acceptors[i].push_back({std::move(acceptor), binding});
    } else {
      asio::post(w->executor(), [w, a = std::move(acceptor), binding]() mutable {
        w->listen(std::move(a), std::move(binding));
      });
    }
  }
  return bound;
}

void gateway::serve(asio::ip::tcp::socket client) {
  state& s = *state_;
  if (s.host == nullptr)
    throw std::logic_error("gateway: serve() needs a gateway on the host's io_context");
  if (!s.listening) s.make_workers();
  s.workers.front()->serve(net::tcp_stream{std::move(client)});
}

void gateway::serve(testing::memory_stream client) {
  state& s = *state_;
  if (s.host == nullptr)
    throw std::logic_error("gateway: in-memory connections need a gateway on the host's io_context");
  if (!s.listening) s.make_workers();
  s.workers.front()->serve(std::move(client));
}

void gateway::start() {
  state& s = *state_;
  if (s.host != nullptr) return;  // the host's context runs the worker
  if (!s.listening) throw std::logic_error("gateway: listen() before start()");
  if (!s.threads.empty()) return;
  for (std::size_t i = 0; i < s.workers.size(); ++i) {
    auto w = s.workers[i];
    asio::post(*s.contexts[i], [w, acceptors = std::move(s.pending_acceptors[i])]() mutable {
      for (auto& a : acceptors) w->listen(std::move(a.acceptor), std::move(a.binding));
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
