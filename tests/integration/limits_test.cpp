// Client-side limits and timeouts: --max-body, --request-head-timeout, --body-timeout,
// --keepalive-timeout, and the connection caps per worker and in total.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "common.hpp"

using namespace gantry::testing;

TEST_CASE("limits: --max-body") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()}, .args = {"--max-body", "1000"}}};
  auto d = after(10s);

  SUBCASE("a declared length over the limit gets 413 without reaching the upstream") {
    tcp_client client{proxy.port()};
    REQUIRE(client.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 2000\r\n\r\n", d));
    client.send(std::string(2000, 'x'), d);  // gantryd may close before it reads this
    auto r = client.read_response(d);
    INFO(r.summary());
    CHECK(r.status() == 413);
    CHECK(upstream.request_count() == 0);
  }

  SUBCASE("a chunked body that grows over the limit is cut off") {
    tcp_client client{proxy.port()};
    REQUIRE(client.send(make_request("POST", "/", {"Transfer-Encoding: chunked"}), d));
    client.send("400\r\n" + std::string(1024, 'x') + "\r\n400\r\n" + std::string(1024, 'y') +
                    "\r\n0\r\n\r\n",
                d);
    auto r = client.read_response(d);
    INFO(r.summary());
    CHECK(r.status() != 200);
    CHECK((r.status() == 413 || (r.status() == 0 && r.closed)));
    for (const auto& request : upstream.requests()) {
      CHECK_FALSE(request.complete);
      CHECK(request.body_size <= 1000);
    }
  }

  SUBCASE("a body at the limit is fine") {
    auto r = fetch(proxy.port(), make_request("POST", "/", {}, std::string(1000, 'z')));
    CHECK(r.status() == 200);
  }
}

TEST_CASE("limits: client timeouts") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()},
                 .args = {"--request-head-timeout", "300", "--body-timeout", "300",
                          "--keepalive-timeout", "300"}}};
  tcp_client client{proxy.port()};
  auto d = after(10s);
  std::string received;
  auto start = clock::now();

  SUBCASE("a head that never ends: 408 or a close") {
    REQUIRE(client.send("GET / HTTP/1.1\r\nHost: te", d));
    CHECK(client.wait_for_close(after(5s), &received));
    CHECK((received.empty() || received.rfind("HTTP/1.1 408", 0) == 0));
    CHECK(clock::now() - start >= 250ms);
    CHECK(upstream.request_count() == 0);
  }

  SUBCASE("a connection that never sends a byte is closed") {
    CHECK(client.wait_for_close(after(5s), &received));
    CHECK((received.empty() || received.rfind("HTTP/1.1 408", 0) == 0));
  }

  SUBCASE("a body that stops coming: the exchange ends, upstream connection closed") {
    REQUIRE(
        client.send("PUT / HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n0123456789", d));
    CHECK(client.wait_for_close(after(5s), &received));
    INFO("received: ", received);
    CHECK(received.rfind("HTTP/1.1 200", 0) == std::string::npos);
    CHECK(clock::now() - start >= 250ms);
    CHECK(upstream.wait_for_peer_closes(1, after(5s)));
  }

  SUBCASE("an idle keep-alive connection is closed silently") {
    REQUIRE(client.send(make_request("GET", "/"), d));
    CHECK(client.read_response(d).status() == 200);
    auto idle_since = clock::now();
    CHECK(client.wait_for_close(after(5s), &received));
    CHECK(received.empty());
    CHECK(clock::now() - idle_since >= 250ms);
  }

  SUBCASE("a request that trickles in byte by byte, within the timeouts, is served") {
    std::string request = make_request("POST", "/steady", {}, "0123456789");
    for (char ch : request) {
      REQUIRE(client.send(std::string(1, ch), d));
      if (ch == '\n') std::this_thread::sleep_for(20ms);  // pacing, not synchronisation
    }
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
  }
  // Whatever happened to that client, others are served.
  CHECK(get(proxy.port(), "/other").status() == 200);
}

TEST_CASE("limits: --max-connections holds further clients in the accept queue") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()}, .args = {"--max-connections", "1"}}};
  auto d = after(10s);
  tcp_client first{proxy.port()};
  REQUIRE(first.send(make_request("GET", "/first"), d));
  auto r1 = first.read_response(d);
  REQUIRE(r1.status() == 200);
  REQUIRE(r1.keep_alive);

  // The kernel completes the second connection, but the only slot is taken: its request
  // waits, unanswered, while the first connection lives.
  tcp_client second{proxy.port()};
  REQUIRE(second.send(make_request("GET", "/second"), d));
  auto waiting = second.read_response(after(700ms));
  CHECK_FALSE(waiting.complete);
  CHECK(upstream.request_count() == 1);

  first.close();
  second.resume_response(waiting, d);
  INFO(waiting.summary());
  CHECK(waiting.complete);
  CHECK(waiting.status() == 200);
  CHECK(waiting.body == "GET /second");
}

TEST_CASE("limits: --max-total-connections holds the gateway's further clients, whichever worker") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()},
                 .workers = 2,
                 .args = {"--max-total-connections", "2"}}};
  auto d = after(10s);
  // Enough connections that both workers accept some: every worker is parked in accept
  // when the cap is reached, and none may let one more in.
  std::vector<std::unique_ptr<tcp_client>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<tcp_client>(proxy.port()));
    REQUIRE(held.back()->send(make_request("GET", "/held" + std::to_string(i)), d));
    auto r = held.back()->read_response(d);
    REQUIRE(r.status() == 200);
    REQUIRE(r.keep_alive);
  }
  std::vector<std::unique_ptr<tcp_client>> waiting_clients;
  std::vector<response_result> waiting;
  for (int i = 0; i < 4; ++i) {
    waiting_clients.push_back(std::make_unique<tcp_client>(proxy.port()));
    REQUIRE(waiting_clients.back()->send(make_request("GET", "/waits" + std::to_string(i)), d));
  }
  for (auto& c : waiting_clients) {
    waiting.push_back(c->read_response(after(300ms)));
    CHECK_FALSE(waiting.back().complete);
  }
  CHECK(upstream.request_count() == 2);

  // Each connection that ends lets one waiting client in, whichever worker holds it; which
  // two get in is the kernel's choice.
  held[0]->close();
  held[1]->close();
  auto served = [&] {
    int n = 0;
    for (auto& r : waiting) n += r.complete ? 1 : 0;
    return n;
  };
  const auto give_up = after(5s);
  while (served() < 2 && std::chrono::steady_clock::now() < give_up) {
    for (std::size_t i = 0; i < waiting.size(); ++i)
      if (!waiting[i].complete) waiting_clients[i]->resume_response(waiting[i], after(50ms));
  }
  CHECK(served() == 2);
  // And no more than two: the other two still wait.
  for (std::size_t i = 0; i < waiting.size(); ++i)
    if (!waiting[i].complete) waiting_clients[i]->resume_response(waiting[i], after(300ms));
  CHECK(served() == 2);
  CHECK(upstream.request_count() == 4);
  for (auto& r : waiting)
    if (r.complete) CHECK(r.status() == 200);
}
