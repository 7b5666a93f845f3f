// The upstream keep-alive pool: connections are reused per worker, capped, aged out, never
// reused after a close, and a request that meets a connection the upstream had closed is
// retried once on a fresh one.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <thread>

#include "common.hpp"
#include "support/nginx.hpp"

using namespace gantry::testing;

TEST_CASE("pool: upstream connections are reused (NGINX counts them)") {
  nginx_server nginx;
  gantryd proxy{{.upstreams = {nginx.address()}, .workers = 1}};

  SUBCASE("ten requests from ten client connections use one upstream connection") {
    for (int i = 0; i < 10; ++i) {
      auto r = get(proxy.port(), "/hello");
      CHECK(r.status() == 200);
      CHECK(r.body == "hello from nginx\n");
    }
    REQUIRE(nginx.wait_for_access_log(10, after(5s)));
    auto log = nginx.access_log();
    CHECK(distinct(log, "connection") == 1);
  }

  SUBCASE("an upstream that ends keep-alive after 3 requests (keepalive_requests 3)") {
    for (int i = 0; i < 9; ++i) {
      auto r = get(proxy.port(), "/few/" + std::to_string(i));
      INFO("request ", i, ": ", r.summary());
      CHECK(r.status() == 200);
      CHECK(r.body == "few\n");
    }
    REQUIRE(nginx.wait_for_access_log(9, after(5s)));
    CHECK(distinct(nginx.access_log(), "connection") == 3);
  }

  SUBCASE("pipelined requests through gantryd to NGINX") {
    tcp_client client{proxy.port()};
    auto d = after(10s);
    REQUIRE(client.send(make_request("GET", "/hello") + make_request("GET", "/empty") +
                            make_request("HEAD", "/hello") + make_request("GET", "/echo"),
                        d));
    auto hello = client.read_response(d);
    auto empty = client.read_response(d);
    auto head = client.read_response(d, {.head_request = true});
    auto echo = client.read_response(d);
    CHECK(hello.body == "hello from nginx\n");
    CHECK(empty.status() == 204);
    CHECK(head.status() == 200);
    CHECK(head.complete);
    CHECK(head.header("Content-Length") == "17");
    CHECK(echo.status() == 200);
    CHECK(echo.body.find("uri=/echo\n") != std::string::npos);
    REQUIRE(nginx.wait_for_access_log(4, after(5s)));
    CHECK(distinct(nginx.access_log(), "connection") == 1);
  }
}

TEST_CASE("pool: limits") {
  SUBCASE("--pool-max-requests caps the exchanges per upstream connection") {
    stub_upstream upstream{stub::echo()};
    gantryd proxy{
        {.upstreams = {upstream.address()}, .workers = 1, .args = {"--pool-max-requests", "2"}}};
    for (int i = 0; i < 6; ++i) CHECK(get(proxy.port(), "/n").status() == 200);
    CHECK(upstream.connection_count() == 3);
    // The retired ones are closed, not leaked.
    CHECK(upstream.wait_for_peer_closes(2, after(5s)));
  }

  SUBCASE("--pool-idle-timeout closes idle upstream connections") {
    stub_upstream upstream{stub::echo()};
    gantryd proxy{
        {.upstreams = {upstream.address()}, .workers = 1, .args = {"--pool-idle-timeout", "200"}}};
    CHECK(get(proxy.port(), "/first").status() == 200);
    // The stub sees gantryd close the idle connection.
    CHECK(upstream.wait_for_peer_closes(1, after(5s)));
    auto r = get(proxy.port(), "/second");
    CHECK(r.status() == 200);
    CHECK(r.header("X-Stub-Connection") == "1");
    CHECK(upstream.connection_count() == 2);
  }

  SUBCASE("--pool-max-idle keeps at most that many idle connections") {
    stub_upstream upstream{stub::gated()};
    gantryd proxy{
        {.upstreams = {upstream.address()}, .workers = 1, .args = {"--pool-max-idle", "1"}}};
    auto d = after(10s);
    std::vector<tcp_client> clients;
    for (int i = 0; i < 3; ++i) {
      clients.emplace_back(proxy.port(), d);
      REQUIRE(clients.back().send(make_request("GET", "/c" + std::to_string(i)), d));
    }
    // Three exchanges at once need three upstream connections.
    REQUIRE(upstream.wait_for_requests(3, d));
    upstream.open_gate();
    for (auto& c : clients) CHECK(c.read_response(d).status() == 200);
    // Two of the three are closed when they come back; one stays for reuse.
    CHECK(upstream.wait_for_peer_closes(2, d));
    auto r = get(proxy.port(), "/reuse");
    CHECK(r.status() == 200);
    CHECK(upstream.connection_count() == 3);
    CHECK(upstream.peer_closed_count() == 2);
    auto records = upstream.connections();
    auto used = std::stoul(r.header("X-Stub-Connection"));
    REQUIRE(used < records.size());
    CHECK_FALSE(records[used].peer_closed);
  }

  SUBCASE("an upstream's Connection: close is honoured") {
    stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
      auto request = co_await c.read_request();
      if (!request) co_return;
      std::vector<std::string> fields{"Connection: close"};
      co_await c.respond(200, "once", std::move(fields));
      // Returning closes the connection.
    }};
    gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
    SUBCASE("requests on separate client connections") {
      for (int i = 0; i < 3; ++i) {
        auto r = get(proxy.port(), "/close");
        INFO("request ", i, ": ", r.summary());
        CHECK(r.status() == 200);
        CHECK(r.body == "once");
      }
    }
    SUBCASE("requests on one client connection") {
      tcp_client client{proxy.port()};
      auto d = after(10s);
      for (int i = 0; i < 3; ++i) {
        REQUIRE(client.send(make_request("GET", "/close"), d));
        auto r = client.read_response(d);
        INFO("request ", i, ": ", r.summary());
        CHECK(r.status() == 200);
        CHECK(r.body == "once");
        if (!r.keep_alive) {
          // A response that announces the close must be followed by it.
          INFO("the response said Connection: close");
          CHECK(client.wait_for_close(after(5s)));
          client = tcp_client{proxy.port()};
        }
      }
    }
    CHECK(upstream.connection_count() == 3);
  }
}

TEST_CASE("pool: a pooled connection the upstream closed is retried once on a fresh one") {
  SUBCASE("the upstream closed it right after its response") {
    stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
      auto request = co_await c.read_request();
      if (!request) co_return;
      std::vector<std::string> fields{"X-Stub-Connection: " + std::to_string(c.index())};
      co_await c.respond(200, "fresh", std::move(fields));
      if (c.index() == 0) co_return;  // closes while gantryd keeps it in its pool
      for (;;) {
        auto next = co_await c.read_request();
        if (!next) co_return;
        co_await c.respond(200, "again");
      }
    }};
    gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
    CHECK(get(proxy.port(), "/one").status() == 200);
    auto r = get(proxy.port(), "/two");
    INFO(r.summary());
    CHECK(r.status() == 200);
    CHECK(r.header("X-Stub-Connection") == "1");
    CHECK(upstream.connection_count() == 2);
  }

  SUBCASE("a POST, which is never retried, goes on a fresh one once the close has arrived") {
    // The peek before reuse sees the upstream's FIN on a connection idle past a millisecond
    // and takes a fresh connection, so a request that may not be sent twice is sent once.
    stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
      for (;;) {
        auto request = co_await c.read_request();
        if (!request) co_return;
        std::vector<std::string> fields{"X-Stub-Connection: " + std::to_string(c.index())};
        co_await c.respond(200, "fresh", std::move(fields));
        if (c.index() == 0) co_return;  // closes while gantryd keeps it in its pool
      }
    }};
    gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
    CHECK(fetch(proxy.port(), make_request("POST", "/one", {}, "a")).status() == 200);
    std::this_thread::sleep_for(50ms);  // the stub closed right after answering: its FIN is in
    auto r = fetch(proxy.port(), make_request("POST", "/two", {}, "b"));
    INFO(r.summary());
    CHECK(r.status() == 200);
    CHECK(r.header("X-Stub-Connection") == "1");
    CHECK(upstream.request_count() == 2);
  }

  SUBCASE("the upstream closes it when the next request arrives") {
    stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
      auto request = co_await c.read_request();
      if (!request) co_return;
      std::vector<std::string> fields{"X-Stub-Connection: " + std::to_string(c.index())};
      co_await c.respond(200, "fresh", std::move(fields));
      if (c.index() == 0) {
        // The request was sent on a connection the upstream is closing: no response.
        co_await c.read_head();
        co_return;
      }
      for (;;) {
        auto next = co_await c.read_request();
        if (!next) co_return;
        co_await c.respond(200, "again");
      }
    }};
    gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
    CHECK(get(proxy.port(), "/one").status() == 200);
    auto r = get(proxy.port(), "/two");
    INFO(r.summary());
    CHECK(r.status() == 200);
    CHECK(r.header("X-Stub-Connection") == "1");
    CHECK(upstream.connection_count() == 2);
    auto requests = upstream.requests();
    REQUIRE(requests.size() == 3);  // /one, /two on the stale connection, /two again
    CHECK(requests[1].head.target == "/two");
    CHECK(requests[2].head.target == "/two");
    CHECK(requests[2].connection == 1);
  }

  SUBCASE("only once: when the fresh connection fails too, the client gets 502") {
    stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
      if (c.index() == 0) {
        auto request = co_await c.read_request();
        if (!request) co_return;
        co_await c.respond(200, "fresh");
      }
      co_await c.read_head();  // every later request: close without a response
    }};
    gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
    CHECK(get(proxy.port(), "/one").status() == 200);
    auto r = get(proxy.port(), "/two");
    INFO(r.summary());
    CHECK(r.status() == 502);
    CHECK(upstream.connection_count() == 2);
  }
}
