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
