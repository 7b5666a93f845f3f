// Several listeners on one gateway, and the facts of the connection an exchange arrived on.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <asio/read.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "gantry/gateway/gateway.hpp"
#include "gantry/policy/chain.hpp"
#include "raw_exchange.hpp"

using namespace std::chrono_literals;

namespace {

// Answers every request locally with what the exchange knows of its connection.
struct echo_downstream {
  gantry::policy::verdict on_request_head(gantry::policy::exchange& ex) const {
    const auto& d = ex.downstream;
    const std::string body =
        fmt::format("{} {} {} {} {} {}", d.peer_address, d.peer_port, d.local_address, d.local_port,
                    d.scheme, d.tls != nullptr ? "tls" : "plain");
    return ex.respond(gantry::http::status::ok, body, "text/plain");
  }
};

gantry::gateway_config echo_config() {
  gantry::gateway_config config;
  config.policies = {{.name = "echo", .chain = gantry::policy::chain{}.add(echo_downstream{})}};
  config.listener_policies = {"echo"};
  config.routes = {{.name = "any",
                    .match = {.path = gantry::route::path_prefix{"/"}},
                    .action = gantry::route::direct_response{}}};
  return config;
}

// One request with Connection: close from `client_socket`, which is connected already; the
// response body.
std::string ask(asio::ip::tcp::socket& client) {
  asio::write(
      client,
      asio::buffer(std::string_view{"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"}));
  std::string received;
  char buffer[4096];
  std::error_code ec;
  while (!ec) received.append(buffer, client.read_some(asio::buffer(buffer), ec));
  const auto body = received.find("\r\n\r\n");
  return body == std::string::npos ? received : received.substr(body + 4);
}

std::string ask(asio::ip::tcp::endpoint gateway) {
  asio::io_context io;
  asio::ip::tcp::socket client{io};
  client.connect(gateway);
  return ask(client);
}

}  // namespace

TEST_CASE("an exchange knows the peer and local address, port and scheme of its connection") {
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  gw.configure(echo_config());
  const auto bound = gw.listen("127.0.0.1:0");
  gw.start();
  asio::io_context io;
  asio::ip::tcp::socket client{io};
  client.connect(bound);
  const auto me = client.local_endpoint();
  const std::string facts = ask(client);
  gw.stop();
  gw.wait();
  CHECK(facts == fmt::format("127.0.0.1 {} 127.0.0.1 {} http plain", me.port(), bound.port()));
}

TEST_CASE("a gateway serves every address it listens on") {
  SUBCASE("workers of its own: listeners bound before and after start()") {
    gantry::gateway gw{gantry::gateway_options{.workers = 2}};
    gw.configure(echo_config());
    const auto first = gw.listen("127.0.0.1:0");
    const auto second = gw.listen("127.0.0.1:0");
    gw.start();
    const auto third = gw.listen("127.0.0.1:0");  // while the workers run
    CHECK(first.port() != second.port());
    for (const auto& at : {first, second, third}) {
      CAPTURE(at.port());
      for (int i = 0; i < 4; ++i)  // several connections, so both workers' acceptors serve
        CHECK(ask(at).ends_with(fmt::format(" {} http plain", at.port())));
    }
    gw.stop();
    gw.wait();
    for (const auto& at : {first, second, third}) {
      asio::io_context probe;
      asio::ip::tcp::socket socket{probe};
      std::error_code ec;
      socket.connect(at, ec);
      CHECK(ec);  // stopping closed every listener
    }
  }
  SUBCASE("on the host's io_context") {
    asio::io_context io;
    gantry::gateway gw{io};
    gw.configure(echo_config());
    const auto first = gw.listen("127.0.0.1:0");
    const auto second = gw.listen("127.0.0.1:0");
    std::string a, b;
    std::thread client{[&] {
      a = ask(first);
      b = ask(second);
      asio::post(io, [&] { gw.stop(); });
    }};
    io.run_for(10s);
    client.join();
    CHECK(a.ends_with(fmt::format(" {} http plain", first.port())));
    CHECK(b.ends_with(fmt::format(" {} http plain", second.port())));
    CHECK(io.stopped());  // stop() closed both listeners: nothing left to run
  }
  SUBCASE("an address that cannot be bound leaves the others serving") {
    gantry::gateway gw{gantry::gateway_options{.workers = 2}};
    gw.configure(echo_config());
    const auto first = gw.listen("127.0.0.1:0");
    gw.start();
    // Without SO_REUSEPORT on the holder, the gateway's bind fails.
    asio::io_context io;
    asio::ip::tcp::acceptor taken{io, {asio::ip::make_address("127.0.0.1"), 0}};
    const std::string busy = fmt::format("127.0.0.1:{}", taken.local_endpoint().port());
    CHECK_THROWS_AS(gw.listen(busy), std::system_error);
    CHECK(ask(first).ends_with(" http plain"));
    gw.stop();
    gw.wait();
  }
}

TEST_CASE("a gateway on the host's io_context serves a connection the host accepted itself") {
  // The host's own acceptor; the gateway gets the accepted socket, not the address.
  auto accept_one = [](asio::io_context& io, asio::ip::tcp::acceptor& acceptor,
                       asio::ip::tcp::socket& client) {
    client.connect(acceptor.local_endpoint());
    asio::ip::tcp::socket accepted{io};
    acceptor.accept(accepted);
    return accepted;
  };
  SUBCASE("on the host's io_context") {
    asio::io_context io;
    gantry::gateway gw{io};
    gw.configure(echo_config());
    asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
    asio::io_context client_io;
    asio::ip::tcp::socket client{client_io};
    gw.serve(accept_one(io, acceptor, client));
    std::string facts;
    std::thread asker{[&] {
      facts = ask(client);
      asio::post(io, [&] { gw.stop(); });
    }};
    io.run_for(10s);
    asker.join();
    CHECK(facts == fmt::format("127.0.0.1 {} 127.0.0.1 {} http plain",
                               client.local_endpoint().port(), acceptor.local_endpoint().port()));
  }
  SUBCASE("not by a gateway with workers of its own: the socket is on another context") {
    gantry::gateway gw{gantry::gateway_options{.workers = 1}};
    gw.configure(echo_config());
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
    asio::ip::tcp::socket client{io};
    CHECK_THROWS_AS(gw.serve(accept_one(io, acceptor, client)), std::logic_error);
  }
}

namespace {

// Sets `X-Listener: <name>` on every response, so a test sees whose listener policies ran.
struct tag_listener {
  std::string name;
  gantry::policy::verdict on_response_head(gantry::policy::exchange& ex) const {
    ex.response.fields.set("X-Listener", name);
    return gantry::policy::verdict::continue_;
  }
};

gantry::route::route answering(std::string path, std::string body) {
  return {.name = path,
          .match = {.path = gantry::route::path_exact{std::move(path)}},
          .action = gantry::route::direct_response{.body = std::move(body)}};
}

// The gateway's own routes answer "main" under /, tagged "public"; the listener "admin"
// answers /healthz only, tagged "admin".
gantry::gateway_config two_listeners() {
  gantry::gateway_config config;
  config.policies = {
      {.name = "public", .chain = gantry::policy::chain{}.add(tag_listener{"public"})},
      {.name = "admin", .chain = gantry::policy::chain{}.add(tag_listener{"admin"})}};
  config.listener_policies = {"public"};
  config.routes = {{.name = "main",
                    .match = {.path = gantry::route::path_prefix{"/"}},
                    .action = gantry::route::direct_response{.body = "main"}}};
  config.listeners = {
      {.name = "admin", .routes = {answering("/healthz", "ok")}, .listener_policies = {"admin"}}};
  return config;
}

std::string get_raw(asio::ip::tcp::endpoint at, std::string_view path) {
  return gantry::test::exchange_raw(
      at, fmt::format("GET {} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path));
}

bool answered(const std::string& response, std::string_view status, std::string_view listener,
              std::string_view body) {
  return response.starts_with(fmt::format("HTTP/1.1 {}", status)) &&
         response.find(fmt::format("\r\nX-Listener: {}\r\n", listener)) != std::string::npos &&
         response.ends_with(body);
}

}  // namespace

TEST_CASE("a named listener serves its own routes and listener policies on the same workers") {
  auto check_both = [](asio::ip::tcp::endpoint main, asio::ip::tcp::endpoint admin) {
    CHECK(answered(get_raw(main, "/healthz"), "200", "public", "main"));
    CHECK(answered(get_raw(main, "/x"), "200", "public", "main"));
    CHECK(answered(get_raw(admin, "/healthz"), "200", "admin", "ok"));
    // No route of its own matches: a 404 through the admin listener's policies alone.
    const std::string missing = get_raw(admin, "/x");
    CHECK(answered(missing, "404", "admin", "404 Not Found\n"));
    CHECK(missing.find("public") == std::string::npos);
  };
  SUBCASE("workers of its own") {
    gantry::gateway gw{gantry::gateway_options{.workers = 2}};
    gw.configure(two_listeners());
    const auto main = gw.listen("127.0.0.1:0");
    const auto admin = gw.listen("127.0.0.1:0", {.name = "admin"});
    gw.start();
    for (int i = 0; i < 3; ++i) check_both(main, admin);  // both workers, states reused
    gw.stop();
    gw.wait();
  }
  SUBCASE("on the host's io_context") {
    asio::io_context io;
    gantry::gateway gw{io};
    gw.configure(two_listeners());
    const auto main = gw.listen("127.0.0.1:0");
    const auto admin = gw.listen("127.0.0.1:0", {.name = "admin"});
    std::thread client{[&] {
      check_both(main, admin);
      asio::post(io, [&] { gw.stop(); });
    }};
    io.run_for(10s);
    client.join();
  }
}

TEST_CASE("listening on a listener that is not declared is refused, and nothing changes") {
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  gw.configure(two_listeners());
  const auto main = gw.listen("127.0.0.1:0");
  gw.start();
  try {
    gw.listen("127.0.0.1:0", {.name = "admn"});
    FAIL("listen() accepted an undeclared listener");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string_view{e.what()}.find("'admn'") != std::string_view::npos);
  }
  CHECK(answered(get_raw(main, "/x"), "200", "public", "main"));
  // The failed call recorded nothing: a reload without any listener is fine.
  gantry::gateway_config bare = two_listeners();
  bare.listeners.clear();
  CHECK_NOTHROW(gw.reload(bare));
  gw.stop();
  gw.wait();
}

TEST_CASE("a reload changes a named listener's routes but cannot remove a served one") {
  gantry::gateway gw{gantry::gateway_options{.workers = 2}};
  gw.configure(two_listeners());
  const auto main = gw.listen("127.0.0.1:0");
  const auto admin = gw.listen("127.0.0.1:0", {.name = "admin"});
  gw.start();

  gantry::gateway_config next = two_listeners();
  next.listeners[0].routes = {answering("/ready", "ready")};
  gw.reload(next);
  // Each worker switches between two of its turns: a few tries reach both.
  for (int i = 0; i < 4; ++i) {
    CHECK(answered(get_raw(admin, "/ready"), "200", "admin", "ready"));
    CHECK(get_raw(admin, "/healthz").starts_with("HTTP/1.1 404"));
  }

  gantry::gateway_config without = two_listeners();
  without.listeners.clear();
  try {
    gw.reload(without);
    FAIL("a reload removed a served listener");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string_view{e.what()} ==
          "listener 'admin' is being served, so it cannot be removed");
  }
  CHECK(gw.generation() == 2);
  CHECK(gw.config().listeners.size() == 1);
  CHECK(answered(get_raw(admin, "/ready"), "200", "admin", "ready"));
  CHECK(answered(get_raw(main, "/ready"), "200", "public", "main"));
  gw.stop();
  gw.wait();
}

TEST_CASE("named listeners are checked with the rest of the configuration") {
  gantry::gateway_config config = two_listeners();
  config.listeners.push_back({.name = "admin", .routes = {}, .listener_policies = {}});
  config.listeners.push_back({.name = "", .routes = {}, .listener_policies = {}});
  config.listeners.push_back({.name = "internal",
                              .routes = {answering("/a", "a"),
                                         {.name = "b",
                                          .match = {.path = gantry::route::path_exact{"/b"}},
                                          .action = gantry::route::proxy{"ghost"},
                                          .policies = {"missing"}}},
                              .listener_policies = {"absent"}});
  config.listeners.push_back({.name = "empty", .routes = {}, .listener_policies = {}});
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  try {
    gw.reload(config);
    FAIL("the configuration was accepted");
  } catch (const std::invalid_argument& e) {
    const std::string_view text = e.what();
    INFO(text);
    CHECK(text.find("listener 'admin' is declared twice") != std::string_view::npos);
    CHECK(text.find("a listener has no name") != std::string_view::npos);
    CHECK(text.find("listener 'internal' uses policy 'absent'") !=
          std::string_view::npos);
    CHECK(text.find("listener 'internal': route 'b' uses policy 'missing'") !=
          std::string_view::npos);
    CHECK(text.find("listener 'internal': route 'b' sends to cluster 'ghost'") !=
          std::string_view::npos);
    CHECK(text.find("listener 'empty': nothing to serve") != std::string_view::npos);
  }
}

TEST_CASE("a listener's own client options apply to its connections only") {
  gantry::gateway_options options{.workers = 1};
  gantry::client_options small = options.client;
  small.request_limits.max_body_size = 4;
  small.max_connections = 0;  // not read: the caps are the gateway's
  gantry::gateway gw{options};
  gw.configure(two_listeners());
  const auto main = gw.listen("127.0.0.1:0");
  const auto limited = gw.listen("127.0.0.1:0", {.name = "", .client = small});
  gw.start();
  const std::string post =
      "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789";
  // One worker: the connections take turns with one pooled connection state, whose parser
  // must take each listener's limits.
  for (int i = 0; i < 2; ++i) {
    CHECK(answered(gantry::test::exchange_raw(main, post), "200", "public", "main"));
    CHECK(gantry::test::exchange_raw(limited, post).starts_with("HTTP/1.1 413"));
  }
  gw.stop();
  gw.wait();
}
