// SIGTERM / SIGINT: gantryd stops accepting, lets in-flight exchanges finish within the drain
// timeout, closes idle connections, and exits 0.
#include <doctest/doctest.h>

#include <signal.h>

#include "common.hpp"

using namespace gantry::testing;

namespace {

// True once a connection attempt is refused: the listener is gone.
bool refuses_connections(std::uint16_t port) {
  tcp_client probe;
  auto ec = tcp_client::try_connect(port, after(1s), probe);
  return ec == std::make_error_code(std::errc::connection_refused);
}

}  // namespace

TEST_CASE("graceful stop: in-flight requests finish, new connections are refused, exit 0") {
  stub_upstream upstream{stub::gated()};
  gantryd proxy{
      {.upstreams = {upstream.address()}, .workers = 2, .args = {"--drain-timeout", "10000"}}};
  auto d = after(30s);
  int sig = SIGTERM;
  SUBCASE("SIGTERM") {}
  SUBCASE("SIGINT") { sig = SIGINT; }

  constexpr int in_flight = 8;
  std::vector<tcp_client> clients;
  for (int i = 0; i < in_flight; ++i) {
    clients.emplace_back(proxy.port(), d);
    REQUIRE(clients.back().send(make_request("GET", "/r" + std::to_string(i)), d));
  }
  REQUIRE(upstream.wait_for_requests(in_flight, d));

  REQUIRE(proxy.process().send_signal(sig));
  CHECK(eventually([&] { return refuses_connections(proxy.port()); }, after(5s)));
  CHECK(proxy.process().running());  // still draining

  upstream.open_gate();
  for (int i = 0; i < in_flight; ++i) {
    auto r = clients[static_cast<std::size_t>(i)].read_response(d);
    INFO("request ", i, ": ", r.summary());
    CHECK(r.status() == 200);
    CHECK(r.complete);
    CHECK(r.body == "GET /r" + std::to_string(i));
  }
  auto status = proxy.process().wait(after(10s));
  REQUIRE(status);
  INFO("gantryd ", status->describe(), "; stderr:\n", proxy.process().stderr_text());
  CHECK(status->exited);
  CHECK(status->code == 0);
}

TEST_CASE("graceful stop: a download in progress completes") {
  stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
    auto request = co_await c.read_request();
    if (!request) co_return;
    std::vector<std::string> fields{"Content-Length: " + std::to_string(64u << 20)};
    if (!co_await c.write_head(200, std::move(fields))) co_return;
    co_await c.write_pattern(64u << 20);
  }};
  gantryd proxy{
      {.upstreams = {upstream.address()}, .workers = 1, .args = {"--drain-timeout", "20000"}}};
  tcp_client client{proxy.port()};
  auto d = after(30s);
  REQUIRE(client.send(make_request("GET", "/big"), d));
  auto r = client.read_response(d, {.stop_after = 1 << 20});
  REQUIRE(r.status() == 200);
  REQUIRE_FALSE(r.complete);
  REQUIRE(proxy.process().send_signal(SIGTERM));
  client.resume_response(r, d);
  INFO(r.summary());
  CHECK(r.complete);
  CHECK(r.body_size == (64u << 20));
  CHECK(r.pattern.intact());
  auto status = proxy.process().wait(after(20s));
  REQUIRE(status);
  INFO("gantryd ", status->describe(), "; stderr:\n", proxy.process().stderr_text());
  CHECK(status->ok());
}

TEST_CASE("graceful stop: idle connections are closed at once") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{
      {.upstreams = {upstream.address()}, .workers = 1, .args = {"--drain-timeout", "20000"}}};
  tcp_client idle{proxy.port()};
  auto d = after(10s);
  REQUIRE(idle.send(make_request("GET", "/before"), d));
  CHECK(idle.read_response(d).status() == 200);
  tcp_client silent{proxy.port()};  // connected, never sent a byte

  auto start = clock::now();
  REQUIRE(proxy.process().send_signal(SIGTERM));
  // Nothing is in flight, so there is nothing to wait the drain timeout for.
  CHECK(idle.wait_for_close(after(5s)));
  CHECK(silent.wait_for_close(after(5s)));
  auto status = proxy.process().wait(after(5s));
  REQUIRE(status);
  INFO("gantryd ", status->describe(), "; stderr:\n", proxy.process().stderr_text());
  CHECK(status->ok());
  CHECK(clock::now() - start < 5s);
  // The pooled upstream connection was closed too.
  CHECK(upstream.wait_for_peer_closes(1, after(5s)));
}

TEST_CASE("graceful stop: the drain timeout cuts off an exchange that takes too long") {
  stub_upstream upstream{stub::never_answer()};
  gantryd proxy{{.upstreams = {upstream.address()},
                 .workers = 1,
                 .args = {"--drain-timeout", "300", "--upstream-timeout", "60000"}}};
  tcp_client client{proxy.port()};
  auto d = after(10s);
  REQUIRE(client.send(make_request("GET", "/forever"), d));
  REQUIRE(upstream.wait_for_requests(1, d));

  auto start = clock::now();
  REQUIRE(proxy.process().send_signal(SIGTERM));
  auto status = proxy.process().wait(after(5s));
  auto elapsed = clock::now() - start;
  REQUIRE(status);
  INFO("gantryd ", status->describe(), "; stderr:\n", proxy.process().stderr_text());
  CHECK(status->ok());
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 5s);
  std::string received;
  CHECK(client.wait_for_close(after(5s), &received));
  INFO("client received: ", received);
  CHECK(received.rfind("HTTP/1.1 200", 0) == std::string::npos);
  CHECK(upstream.wait_for_peer_closes(1, after(5s)));
}
