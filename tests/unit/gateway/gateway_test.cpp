// The gateway as a host program embeds it: real sockets on loopback, in-process upstream.
#include "gantry/gateway/gateway.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/resource.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "allocation_counter.hpp"
#include "gantry/core/async.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/serializer.hpp"
#include "gantry/net/listener.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/policy/static_chain.hpp"
#include "raw_exchange.hpp"

using namespace std::chrono_literals;
using gantry::core::use_tuple;

namespace {

// An upstream that answers every request with "ok" and counts its connections.
struct counting_upstream {
  asio::ip::tcp::acceptor acceptor;
  int connections = 0;
  int requests = 0;

  explicit counting_upstream(asio::io_context& io)
      : acceptor{gantry::net::make_listener(
            io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, {.reuse_port = false})} {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      ++connections;
      asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    gantry::http::parser parser{gantry::http::parser_mode::request};
    char buffer[4096];
    std::string_view pending;
    for (;;) {
      auto step = parser.parse(pending);
      pending.remove_prefix(step.consumed);
      if (step.event == gantry::http::parse_event::need_more) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
        if (ec) co_return;
        pending = {buffer, n};
      } else if (step.event == gantry::http::parse_event::message_end) {
        ++requests;
        std::string out;
        gantry::http::serialize_response(gantry::http::response{}, "ok", out);
        co_await asio::async_write(socket, asio::buffer(out), use_tuple);
      } else if (step.event == gantry::http::parse_event::error) {
        co_return;
      }
    }
  }
};

// A client on one keep-alive connection.
class keep_alive_client {
 public:
  explicit keep_alive_client(asio::ip::tcp::endpoint gateway) { socket_.connect(gateway); }

  // Sends `count` GETs and returns the bodies joined by '|'.
  std::string get(int count) {
    std::string bodies;
    for (int i = 0; i < count; ++i) {
      std::string request = "GET /item/" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
      asio::write(socket_, asio::buffer(request));
      std::string_view pending;
      for (bool done = false; !done;) {
        auto step = parser_.parse(pending);
        pending.remove_prefix(step.consumed);
        switch (step.event) {
          case gantry::http::parse_event::need_more:
            pending = {buffer_, socket_.read_some(asio::buffer(buffer_))};
            break;
          case gantry::http::parse_event::body:
            bodies.append(parser_.body());
            break;
          case gantry::http::parse_event::message_end:
            bodies.push_back('|');
            done = true;
            break;
          case gantry::http::parse_event::head:
            break;
          default:
            return "parse error";
        }
      }
    }
    return bodies;
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  gantry::http::parser parser_{gantry::http::parser_mode::response};
  char buffer_[4096];
};

// Sends `count` GETs on a new connection and returns the bodies joined by '|'.
std::string get_many(asio::ip::tcp::endpoint gateway, int count) {
  return keep_alive_client{gateway}.get(count);
}

}  // namespace

TEST_CASE("a gateway on the host's io_context proxies and reuses its upstream connection") {
  asio::io_context io;
  counting_upstream upstream{io};
  gantry::gateway gw{io};
  gw.cluster("backend", {upstream.address()});
  auto bound = gw.listen("127.0.0.1:0");
  REQUIRE(bound.port() != 0);

  std::string bodies;
  std::thread client{[&] {
    bodies = get_many(bound, 3);
    asio::post(io, [&] {
      gw.stop();
      upstream.acceptor.close();
    });
  }};
  io.run_for(10s);
  client.join();

  CHECK(bodies == "ok|ok|ok|");
  CHECK(upstream.requests == 3);
  CHECK(upstream.connections == 1);
  CHECK(io.stopped());  // stop() drained everything, so run() ran out of work
}

TEST_CASE("a warm gateway allocates nothing per proxied request") {
  if (!gantry::test::counting_allocations) MESSAGE("allocation counting is off under ASan");
  asio::io_context upstream_io;
  counting_upstream upstream{upstream_io};
  std::thread upstream_thread{[&] { upstream_io.run_for(30s); }};

  // The gateway alone on its thread: what that thread allocates is the gateway's. run(), not
  // run_for(): Asio's per-thread cache of coroutine frames lives as long as one run call, and
  // run_for makes a call per handler.
  asio::io_context io;
  gantry::gateway gw{io};
  gw.cluster("backend", {upstream.address()});
  auto bound = gw.listen("127.0.0.1:0");
  std::thread gateway_thread{[&] { io.run(); }};
  auto gateway_allocations = [&] {
    std::promise<std::size_t> count;
    asio::post(io, [&] { count.set_value(gantry::test::thread_allocations()); });
    return count.get_future().get();
  };

  keep_alive_client client{bound};
  CHECK(client.get(50).size() == 150);  // warm: frames, buffers, the pooled connection
  gateway_allocations();
  const std::size_t before = gateway_allocations();
  // Fewer requests than the pool's 1000 per upstream connection: no reconnect among them.
  CHECK(client.get(500).size() == 1500);
  const std::size_t during = gateway_allocations() - before;
  CHECK(during == 0);

  asio::post(io, [&] { gw.stop(); });
  gateway_thread.join();
  asio::post(upstream_io, [&] {
    upstream.acceptor.close();
    upstream_io.stop();
  });
  upstream_thread.join();
  CHECK(upstream.requests == 550);
  CHECK(upstream.connections == 1);
}

TEST_CASE("a gateway with workers of its own serves on every worker and stops cleanly") {
  asio::io_context upstream_io;
  counting_upstream upstream{upstream_io};
  std::thread upstream_thread{[&] { upstream_io.run_for(20s); }};

  gantry::gateway gw{gantry::gateway_options{.workers = 2}};
  gw.cluster("backend", {upstream.address()});
  auto bound = gw.listen("127.0.0.1:0");
  gw.start();
  for (int i = 0; i < 8; ++i) CHECK(get_many(bound, 2) == "ok|ok|");
  gw.stop();
  gw.wait();

  asio::io_context probe;
  asio::ip::tcp::socket socket{probe};
  std::error_code ec;
  socket.connect(bound, ec);
  CHECK(ec);  // no worker listens any more

  asio::post(upstream_io, [&] {
    upstream.acceptor.close();
    upstream_io.stop();
  });
  upstream_thread.join();
  CHECK(upstream.requests == 16);
}

TEST_CASE("without a total connection cap, the gateway derives one from the descriptor limit") {
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  auto derived_under = [&](rlim_t soft) {
    rlimit lowered = saved;
    lowered.rlim_cur = soft;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    asio::io_context io;
    gantry::gateway own{gantry::gateway_options{.workers = 2}};
    gantry::gateway hosted{io};
    CHECK(own.options().client.max_total_connections ==
          hosted.options().client.max_total_connections);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
    return own.options().client.max_total_connections;
  };
  // 64 descriptors kept back; each connection may pair a client with an upstream.
  CHECK(derived_under(1024) == 480);
  CHECK(derived_under(100) == 18);
  CHECK(derived_under(60) == 1);

  gantry::gateway_options options;
  options.client.max_total_connections = 7;
  CHECK(gantry::gateway{options}.options().client.max_total_connections == 7);
}

TEST_CASE("declaring the gateway wrong is a clear error") {
  asio::io_context io;
  gantry::gateway gw{io};
  CHECK_THROWS_WITH_AS(gw.listen("127.0.0.1:0"), doctest::Contains("nothing to serve"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(gw.cluster("x", {"nonsense"}), doctest::Contains("'x'"),
                       std::invalid_argument);
  CHECK_THROWS_AS(gw.cluster("empty", {}), std::invalid_argument);
}

TEST_CASE("regression: stop() before start() still lets wait() return") {
  // Old behaviour: stop() was posted to the worker's context before start() posted the
  // acceptor to it. The stop ran first and found nothing to close; the start then spawned the
  // accept and tick loops, so the worker's context never ran out of work and wait() hung.
  auto gw = std::make_unique<gantry::gateway>(gantry::gateway_options{.workers = 1});
  gw->cluster("backend", {"127.0.0.1:9"});
  auto bound = gw->listen("127.0.0.1:0");
  gw->stop();
  gw->start();

  auto waited = std::make_shared<std::promise<void>>();
  auto done = waited->get_future();
  std::thread waiter{[gateway = gw.get(), waited] {
    gateway->wait();
    waited->set_value();
  }};
  const bool returned = done.wait_for(5s) == std::future_status::ready;
  CHECK(returned);
  if (!returned) {
    // The worker thread will never end: leave it and the gateway behind rather than hang the
    // suite in join() or in the gateway's destructor.
    waiter.detach();
    (void)gw.release();
    return;
  }
  waiter.join();

  // The stop held: nothing listens on the address.
  asio::io_context probe;
  asio::ip::tcp::socket socket{probe};
  std::error_code ec;
  socket.connect(bound, ec);
  CHECK(ec);
}

TEST_CASE("regression: a host-mode gateway destroyed with a client connection open") {
  // Old behaviour: the gateway alone owned its worker. A connection's coroutine stayed
  // suspended in the host's io_context after the gateway was destroyed, and destroying the
  // context then destroyed that coroutine's frame, whose session detached itself from the
  // freed worker: a heap-use-after-free (reported by ASan, a crash or worse without it).
  auto io = std::make_unique<asio::io_context>();
  std::optional<counting_upstream> upstream{std::in_place, *io};
  auto gw = std::make_unique<gantry::gateway>(*io);
  gw->cluster("backend", {upstream->address()});
  auto bound = gw->listen("127.0.0.1:0");

  // One exchange, so the session surely exists; then the connection stays open, idle. The
  // kernel completes the connect and takes the request before the context runs.
  asio::io_context client_io;
  asio::ip::tcp::socket client{client_io};
  client.connect(bound);
  asio::write(client, asio::buffer(std::string_view{"GET /x HTTP/1.1\r\nHost: t\r\n\r\n"}));
  std::thread runner{[&io] { io->run_for(10s); }};
  // Nothing below throws until the runner is joined; every read waits 5 s at most.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  gantry::http::parser parser{gantry::http::parser_mode::response};
  std::string body;
  char buffer[4096];
  std::string_view pending;
  bool complete = false;
  while (!complete) {
    auto step = parser.parse(pending);
    pending.remove_prefix(step.consumed);
    if (step.event == gantry::http::parse_event::need_more) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd ready{client.native_handle(), POLLIN, 0};
      if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) != 1) break;
      std::error_code ec;
      auto n = client.read_some(asio::buffer(buffer), ec);
      if (ec) break;
      pending = {buffer, n};
    } else if (step.event == gantry::http::parse_event::body) {
      body.append(parser.body());
    } else if (step.event == gantry::http::parse_event::message_end) {
      complete = true;
    } else if (step.event == gantry::http::parse_event::error) {
      break;
    }
  }
  io->stop();
  runner.join();
  CHECK(complete);
  CHECK(body == "ok");

  // The host tears down in the documented order: the gateway after its context stopped,
  // then the upstream's sockets, then the context, which destroys the suspended frames.
  gw.reset();
  upstream.reset();
  io.reset();
  client.close();
  // Reaching this line (with no sanitizer report) is the test.
}

namespace {

// A custom policy that writes what no head may carry, as a careless one could: a value with
// CR LF in the request or the response, a name that is no token, a reason phrase with CR LF.
struct injecting_policy {
  bool in_request = true;

  gantry::policy::verdict on_request_head(gantry::policy::exchange& ex) const {
    if (in_request) ex.request.fields.add("X-Injected", "a\r\nX-Admin: 1");
    return gantry::policy::verdict::continue_;
  }
  gantry::policy::verdict on_response_head(gantry::policy::exchange& ex) const {
    ex.response.fields.add("X-Split", "a\r\n\r\n<html>");
    ex.response.fields.add("Bad Name", "x");
    ex.response.fields.add("X-Nul", std::string_view{"a\0b", 3});
    ex.response.fields.add("X-Kept", "fine");
    ex.response.reason = "OK\r\nX-Reason: injected";
    return gantry::policy::verdict::continue_;
  }
};

using gantry::test::exchange_raw;

}  // namespace

namespace {

// A counting upstream on a thread of its own, for gateways with worker threads.
class threaded_upstream {
 public:
  threaded_upstream() = default;
  threaded_upstream(const threaded_upstream&) = delete;
  threaded_upstream& operator=(const threaded_upstream&) = delete;
  ~threaded_upstream() { stop(); }

  std::string address() const { return upstream_.address(); }

  // Stops serving and returns how many requests the upstream received.
  int stop() {
    if (thread_.joinable()) {
      asio::post(io_, [this] {
        upstream_.acceptor.close();
        io_.stop();
      });
      thread_.join();
    }
    return upstream_.requests;
  }

 private:
  asio::io_context io_;
  counting_upstream upstream_{io_};
  std::thread thread_{[this] { io_.run_for(30s); }};
};

// A policy that records its request and response head phases in `log`, and names itself in
// an X-Order response field.
struct recorder {
  std::string name;
  std::vector<std::string>* log = nullptr;

  gantry::policy::verdict on_request_head(gantry::policy::exchange&) const {
    log->push_back(name + ">");
    return gantry::policy::verdict::continue_;
  }
  gantry::policy::verdict on_response_head(gantry::policy::exchange& ex) const {
    log->push_back("<" + name);
    ex.response.fields.add("X-Order", name);
    return gantry::policy::verdict::continue_;
  }
};

// Serves one request, `request` (with Connection: close), on a one-worker gateway in front of
// a counting upstream; `declare` declares everything but the cluster "backend". Returns what
// the client received and how many requests reached the upstream.
template <class Declare>
std::pair<std::string, int> serve_one(std::string_view request, Declare declare) {
  threaded_upstream upstream;
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  gw.cluster("backend", {upstream.address()});
  declare(gw);
  auto bound = gw.listen("127.0.0.1:0");
  gw.start();
  std::string received = exchange_raw(bound, request);
  gw.stop();
  gw.wait();
  return {received, upstream.stop()};
}

constexpr std::string_view get_close =
    "GET /api/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

}  // namespace

TEST_CASE("what a policy writes into a head cannot inject fields") {
  bool in_request = true;
  SUBCASE("in the request: 500, nothing goes upstream") { in_request = true; }
  SUBCASE("in the response: the fields that cannot be written are dropped") { in_request = false; }
  CAPTURE(in_request);
  auto [received, upstream_requests] =
      serve_one("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", [&](gantry::gateway& gw) {
        gw.policy("inject", gantry::policy::chain{}.add(injecting_policy{in_request}));
        gw.use("inject");
      });

  INFO("received: ", received);
  CHECK(received.find("X-Admin") == std::string::npos);
  CHECK(received.find("<html>") == std::string::npos);
  CHECK(received.find("X-Reason") == std::string::npos);
  CHECK(received.find("Bad Name") == std::string::npos);
  CHECK(received.find("X-Nul") == std::string::npos);
  if (in_request) {
    CHECK(received.starts_with("HTTP/1.1 500 "));
    CHECK(upstream_requests == 0);
  } else {
    CHECK(received.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(received.find("\r\nX-Kept: fine\r\n") != std::string::npos);
    CHECK(received.ends_with("\r\n\r\nok"));
    CHECK(upstream_requests == 1);
  }
}

namespace {

// Reload number `k` of the config() race test: 1 to 3 routes, every name carrying `k`, so a
// reader can tell one whole configuration from a mix of two.
gantry::gateway_config numbered_config(const std::string& upstream, int k) {
  gantry::gateway_config config;
  config.clusters = {{.name = "backend", .endpoints = {upstream}}};
  for (int j = 0; j <= k % 3; ++j) {
    const std::string prefix = j == 0 ? "/" : "/r" + std::to_string(j);
    config.routes.push_back({.name = std::to_string(k) + "-" + std::to_string(j),
                             .match = {.path = gantry::route::path_prefix{prefix}},
                             .action = gantry::route::proxy{"backend"}});
  }
  return config;
}

}  // namespace

TEST_CASE("config() may be read on one thread while another reloads the running gateway") {
  threaded_upstream upstream;
  gantry::gateway gw{gantry::gateway_options{.workers = 2}};
  gw.configure(numbered_config(upstream.address(), 0));
  auto bound = gw.listen("127.0.0.1:0");
  gw.start();

  constexpr int reloads = 60;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  int torn = 0;
  std::thread reader{[&] {
    while (!done.load(std::memory_order_acquire)) {
      const gantry::gateway_config seen = gw.config();
      reads.fetch_add(1, std::memory_order_release);
      // One whole configuration: every route of one reload, and no other.
      const std::string& first = seen.routes.front().name;
      const std::string k = first.substr(0, first.find('-'));
      if (seen.routes.size() != static_cast<std::size_t>(std::stoi(k) % 3 + 1)) ++torn;
      for (const auto& r : seen.routes)
        if (!r.name.starts_with(k + "-")) ++torn;
    }
  }};
  // The reloads start once the reader reads, so the two overlap however threads are scheduled.
  while (reads.load(std::memory_order_acquire) == 0) std::this_thread::yield();
  for (int k = 1; k <= reloads; ++k) {
    gw.reload(numbered_config(upstream.address(), k));
    if (k % 20 == 0) CHECK(get_many(bound, 1) == "ok|");  // still serving
  }
  done.store(true, std::memory_order_release);
  reader.join();

  CHECK(reads.load() > 0);
  CHECK(torn == 0);
  CHECK(gw.generation() == 1 + reloads);
  const gantry::gateway_config last = gw.config();
  REQUIRE(last.routes.size() == reloads % 3 + 1);
  CHECK(last.routes.front().name == std::to_string(reloads) + "-0");

  gw.stop();
  gw.wait();
  CHECK(upstream.stop() == reloads / 20);
}

TEST_CASE("a route's own policy objects run after the listener's and the named ones") {
  std::vector<std::string> log;
  auto [received, upstream_requests] = serve_one(get_close, [&](gantry::gateway& gw) {
    gw.policy("listener", gantry::policy::chain{}.add(recorder{"L", &log}));
    gw.policy("named", gantry::policy::chain{}.add(recorder{"N", &log}));
    gw.use("listener");
    gw.route(
        {.name = "api",
         .match = {.path = gantry::route::path_prefix{"/api"}},
         .action = gantry::route::proxy{"backend"},
         .policies = {"named"},
         .chain = gantry::policy::chain{}.add(recorder{"O1", &log}).add(recorder{"O2", &log})});
  });
  INFO("received: ", received);
  CHECK(received.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(upstream_requests == 1);
  CHECK(log == std::vector<std::string>{"L>", "N>", "O1>", "O2>", "<O2", "<O1", "<N", "<L"});
  CHECK(received.find("X-Order: O2\r\nX-Order: O1\r\nX-Order: N\r\nX-Order: L\r\n") !=
        std::string::npos);
}

TEST_CASE("a route's own policy object answers, and only the policies before it see the answer") {
  std::vector<std::string> log;
  auto [received, upstream_requests] = serve_one(get_close, [&](gantry::gateway& gw) {
    gw.policy("listener", gantry::policy::chain{}.add(recorder{"L", &log}));
    gw.use("listener");
    gw.route(
        {.name = "api",
         .match = {.path = gantry::route::path_prefix{"/api"}},
         .action = gantry::route::proxy{"backend"},
         .chain = gantry::policy::chain{}
                      .add(gantry::policy::direct_response_config{
                          .status = gantry::http::status::forbidden, .headers = {}, .body = "no"})
                      .add(recorder{"after", &log})});
  });
  INFO("received: ", received);
  CHECK(received.starts_with("HTTP/1.1 403 "));
  CHECK(received.ends_with("\r\n\r\nno"));
  CHECK(upstream_requests == 0);
  CHECK(log == std::vector<std::string>{"L>", "<L"});
}

TEST_CASE("a static_chain served by the gateway runs as the same chain built at run time") {
  using gantry::policy::static_chain;
  std::vector<std::string> log;
  SUBCASE("as a named policy, after a run-time one") {
    auto [received, upstream_requests] = serve_one(get_close, [&](gantry::gateway& gw) {
      gw.policy("first", gantry::policy::chain{}.add(recorder{"A", &log}));
      gw.policy("fixed", static_chain{recorder{"B", &log}, recorder{"C", &log}});
      gw.use("first");
      gw.use("fixed");
    });
    INFO("received: ", received);
    CHECK(received.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(received.find("X-Order: C\r\nX-Order: B\r\nX-Order: A\r\n") != std::string::npos);
    CHECK(received.ends_with("\r\n\r\nok"));
    CHECK(upstream_requests == 1);
    CHECK(log == std::vector<std::string>{"A>", "B>", "C>", "<C", "<B", "<A"});
  }
  SUBCASE("as a route's own chain, answering from its middle") {
    auto [received, upstream_requests] = serve_one(get_close, [&](gantry::gateway& gw) {
      gw.route({.name = "api",
                .match = {.path = gantry::route::path_prefix{"/api"}},
                .action = gantry::route::proxy{"backend"},
                .chain = static_chain<recorder, gantry::policy::direct_response, recorder>{
                    recorder{"B", &log},
                    gantry::policy::direct_response{gantry::policy::direct_response_config{
                        .status = static_cast<gantry::http::status>(201),
                        .headers = {},
                        .body = "made"}},
                    recorder{"C", &log}}});
    });
    INFO("received: ", received);
    CHECK(received.starts_with("HTTP/1.1 201 "));
    CHECK(received.find("X-Order: B\r\n") != std::string::npos);
    CHECK(received.ends_with("\r\n\r\nmade"));
    CHECK(upstream_requests == 0);
    CHECK(log == std::vector<std::string>{"B>", "<B"});
  }
}

TEST_CASE("a route picks its upstream in code, per request") {
  asio::io_context io;
  counting_upstream a{io};
  counting_upstream b{io};
  gantry::gateway gw{io};
  gw.cluster("a", {a.address()});
  gw.cluster("b", {b.address(), a.address()});
  using gantry::route::upstream_choice;
  gw.route({.name = "by-tenant",
            .match = {.path = gantry::route::path_template{"/t/{tenant}"}},
            .action = gantry::route::pick_upstream{[](const gantry::policy::exchange& ex) {
              const auto tenant = ex.param("tenant");
              if (tenant == "alpha") return upstream_choice{.cluster = "a"};
              if (tenant == "beta") return upstream_choice{.cluster = "b", .endpoint = 0};
              if (tenant == "gamma") return upstream_choice{.cluster = "b", .endpoint = 7};
              return upstream_choice{.cluster = "nowhere"};
            }}});
  const auto bound = gw.listen("127.0.0.1:0");

  std::vector<std::string> answers;
  std::thread client{[&] {
    for (std::string_view tenant : {"alpha", "beta", "beta", "gamma", "delta"})
      answers.push_back(exchange_raw(
          bound,
          "GET /t/" + std::string{tenant} + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    asio::post(io, [&] {
      gw.stop();
      a.acceptor.close();
      b.acceptor.close();
    });
  }};
  io.run_for(10s);
  client.join();

  REQUIRE(answers.size() == 5);
  CHECK(answers[0].starts_with("HTTP/1.1 200 "));
  CHECK(answers[1].starts_with("HTTP/1.1 200 "));
  CHECK(answers[2].starts_with("HTTP/1.1 200 "));
  CHECK(a.requests == 1);  // alpha
  CHECK(b.requests == 2);  // beta, pinned to b's first endpoint both times
  // An endpoint the cluster lacks, or a cluster nobody declared: no upstream, 503.
  CHECK(answers[3].starts_with("HTTP/1.1 503 "));
  CHECK(answers[4].starts_with("HTTP/1.1 503 "));
}

TEST_CASE("a route that picks its upstream needs a function to pick with") {
  asio::io_context io;
  gantry::gateway gw{io};
  gw.cluster("a", {"127.0.0.1:9"});
  gw.route({.name = "empty",
            .match = {.path = gantry::route::path_prefix{"/"}},
            .action = gantry::route::pick_upstream{}});
  CHECK_THROWS_WITH_AS(gw.listen("127.0.0.1:0"),
                       doctest::Contains("pick_upstream action has no function"),
                       std::invalid_argument);
}

namespace {

// Answers 403 from the response body phase: on the first piece with data, or on the closing
// one (the same piece when a body comes whole with its length).
struct censor {
  bool at_end = false;
  gantry::policy::verdict on_response_body(gantry::policy::exchange& ex,
                                           gantry::policy::body_chunk& c) const {
    if (at_end ? !c.end_of_stream : c.data.empty()) return gantry::policy::verdict::continue_;
    return ex.respond(gantry::http::status::forbidden, "censored\n", "text/plain");
  }
};

}  // namespace

TEST_CASE("a response body phase that answers before anything reached the client is sent") {
  // The upstream's head and body arrive in one read, so neither is written before the body
  // phase has seen the body.
  bool at_end = false;
  SUBCASE("on the first piece") { at_end = false; }
  SUBCASE("on the closing piece") { at_end = true; }
  CAPTURE(at_end);
  auto [received, upstream_requests] = serve_one(get_close, [&](gantry::gateway& gw) {
    gw.policy("censor", gantry::policy::chain{}.add(censor{at_end}));
    gw.use("censor");
  });
  INFO(received);
  CHECK(upstream_requests == 1);
  CHECK(received.starts_with("HTTP/1.1 403 Forbidden\r\n"));
  CHECK(received.ends_with("\r\n\r\ncensored\n"));
  CHECK(received.find("Content-Length: 9\r\n") != std::string::npos);
  CHECK(received.find("Connection: close\r\n") != std::string::npos);
  CHECK(received.find("HTTP/1.1 200") == std::string::npos);
}

namespace {

// Keeps every body piece both body phases see, as "data|" or "data|eos".
struct piece_log {
  std::shared_ptr<std::vector<std::string>> request = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<std::vector<std::string>> response = std::make_shared<std::vector<std::string>>();
  static std::string text(const gantry::policy::body_chunk& c) {
    return std::string{c.data} + (c.end_of_stream ? "|eos" : "|");
  }
  gantry::policy::verdict on_request_body(gantry::policy::exchange&,
                                          gantry::policy::body_chunk& c) const {
    request->push_back(text(c));
    return gantry::policy::verdict::continue_;
  }
  gantry::policy::verdict on_response_body(gantry::policy::exchange&,
                                           gantry::policy::body_chunk& c) const {
    response->push_back(text(c));
    return gantry::policy::verdict::continue_;
  }
};

}  // namespace

TEST_CASE("body phases: a body with a length ends on its last piece, a chunked one after it") {
  piece_log seen;
  bool chunked = false;
  SUBCASE("Content-Length") { chunked = false; }
  SUBCASE("chunked") { chunked = true; }
  CAPTURE(chunked);
  const std::string request = chunked ? "POST /api/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                                      : "POST /api/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                        "Content-Length: 5\r\n\r\nhello";
  auto [received, upstream_requests] = serve_one(request, [&](gantry::gateway& gw) {
    gw.policy("seen", gantry::policy::chain{}.add(seen));
    gw.use("seen");
  });
  INFO(received);
  CHECK(upstream_requests == 1);
  CHECK(received.starts_with("HTTP/1.1 200 OK\r\n"));
  if (chunked)
    CHECK(*seen.request == std::vector<std::string>{"hello|", "|eos"});
  else
    CHECK(*seen.request == std::vector<std::string>{"hello|eos"});
  // The upstream answers "ok" with its length: one piece, the last.
  CHECK(*seen.response == std::vector<std::string>{"ok|eos"});
}
