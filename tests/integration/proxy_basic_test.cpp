// What gantryd does to every exchange: forward, add the forwarding headers, drop hop-by-hop
// headers, balance round robin, keep pipelined responses in order, answer Expect itself,
// frame bodiless responses right, and refuse malformed requests.
#include <doctest/doctest.h>

#include <map>

#include "common.hpp"
#include "gantry/core/ascii.hpp"

using namespace gantry::testing;
using gantry::core::list_contains;

TEST_CASE("proxy: a request goes to the upstream and its response comes back") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()}}};

  SUBCASE("target, method and body arrive unchanged") {
    auto r = fetch(proxy.port(), make_request("POST", "/path/x?q=1&r=%20", {}, "the body"));
    CHECK(r.status() == 200);
    CHECK(r.complete);
    CHECK(r.body == "POST /path/x?q=1&r=%20");
    REQUIRE(upstream.wait_for_complete_requests(1, after(5s)));
    auto got = upstream.requests().at(0);
    CHECK(got.head.target == "/path/x?q=1&r=%20");
    CHECK(got.body == "the body");
    CHECK(got.content_length == 8);
    CHECK_FALSE(got.header("Host").empty());
  }

  SUBCASE("X-Forwarded-For is appended to, X-Forwarded-Proto/Host and Via are added") {
    auto r = fetch(proxy.port(), make_request("GET", "/a", {"X-Forwarded-For: 10.1.2.3"}));
    CHECK(r.status() == 200);
    auto r2 = fetch(proxy.port(), make_request("GET", "/b", {"Via: 1.0 client-side-proxy"}));
    CHECK(r2.status() == 200);
    REQUIRE(upstream.wait_for_requests(2, after(5s)));
    auto requests = upstream.requests();

    const auto& first = requests.at(0);
    INFO("X-Forwarded-For seen upstream: ", first.header_list("X-Forwarded-For"));
    CHECK(first.header_list("X-Forwarded-For") == "10.1.2.3, 127.0.0.1");
    CHECK(first.header_list("X-Forwarded-Proto") == "http");
    CHECK(first.header_list("X-Forwarded-Host") == "test");
    CHECK(list_contains(first.header_list("Via"), "1.1 gantry"));

    const auto& second = requests.at(1);
    CHECK(second.header_list("X-Forwarded-For") == "127.0.0.1");
    // The client's Via stays, gantryd's comes after it.
    CHECK(second.header_list("Via") == "1.0 client-side-proxy, 1.1 gantry");
  }

  SUBCASE("hop-by-hop request headers are removed, end-to-end ones kept") {
    auto request = make_request(
        "GET", "/hop",
        {"Connection: keep-alive, X-Hop, x-other-hop", "X-Hop: secret", "X-Other-Hop: secret too",
         "Keep-Alive: timeout=5", "Proxy-Connection: keep-alive", "TE: trailers", "Upgrade: h2c",
         "X-End-To-End: kept", "Cookie: a=1", "Cookie: b=2"});
    auto r = fetch(proxy.port(), request);
    CHECK(r.status() == 200);
    REQUIRE(upstream.wait_for_requests(1, after(5s)));
    auto got = upstream.requests().at(0);
    INFO("upstream received:\n", upstream.connections().at(0).received);
    CHECK_FALSE(got.head.fields.contains("X-Hop"));
    CHECK_FALSE(got.head.fields.contains("X-Other-Hop"));
    CHECK_FALSE(got.head.fields.contains("Keep-Alive"));
    CHECK_FALSE(got.head.fields.contains("Proxy-Connection"));
    CHECK_FALSE(got.head.fields.contains("TE"));
    CHECK_FALSE(got.head.fields.contains("Upgrade"));
    CHECK_FALSE(got.head.fields.contains("Transfer-Encoding"));
    // gantryd may say how it treats its own hop, but nothing of the client's hop.
    auto connection = got.header_list("Connection");
    CHECK_FALSE(list_contains(connection, "x-hop"));
    CHECK_FALSE(list_contains(connection, "x-other-hop"));
    CHECK(got.header("X-End-To-End") == "kept");
    CHECK(got.head.fields.count("Cookie") == 2);
  }

  SUBCASE("the response gets Via") {
    auto r = get(proxy.port(), "/via");
    CHECK(r.status() == 200);
    CHECK(list_contains(r.header_list("Via"), "1.1 gantry"));
  }
  CHECK(upstream.errors().empty());
}

TEST_CASE("proxy: response headers") {
  stub_upstream upstream{
      stub::fixed(200, "body",
                  {"Connection: X-Resp-Hop", "X-Resp-Hop: secret", "Keep-Alive: timeout=5, max=100",
                   "Proxy-Connection: keep-alive", "Via: 1.0 origin-cache", "Set-Cookie: a=1",
                   "Set-Cookie: b=2", "X-End-To-End: kept"})};
  gantryd proxy{{.upstreams = {upstream.address()}}};

  tcp_client client{proxy.port()};
  auto d = after(10s);
  REQUIRE(client.send(make_request("GET", "/"), d));
  auto r = client.read_response(d);
  REQUIRE(r.status() == 200);
  CHECK(r.body == "body");
  SUBCASE("hop-by-hop response headers are removed") {
    CHECK_FALSE(r.head.fields.contains("X-Resp-Hop"));
    CHECK_FALSE(r.head.fields.contains("Proxy-Connection"));
    CHECK_FALSE(list_contains(r.header_list("Connection"), "x-resp-hop"));
    // Keep-Alive describes the upstream hop: it must not reach the client as it was.
    CHECK(r.header("Keep-Alive") != "timeout=5, max=100");
  }
  SUBCASE("end-to-end response headers are kept, Via is appended to") {
    CHECK(r.head.fields.count("Set-Cookie") == 2);
    CHECK(r.header("X-End-To-End") == "kept");
    CHECK(r.header_list("Via") == "1.0 origin-cache, 1.1 gantry");
  }
  SUBCASE("the client connection stays usable") {
    REQUIRE(client.send(make_request("GET", "/again"), d));
    auto again = client.read_response(d);
    CHECK(again.status() == 200);
    CHECK(again.body == "body");
  }
}

TEST_CASE("proxy: round robin over upstreams") {
  stub_upstream a{stub::echo()};
  stub_upstream b{stub::echo()};
  stub_upstream c{stub::echo()};
  gantryd proxy{{.upstreams = {a.address(), b.address(), c.address()}, .workers = 1}};

  SUBCASE("requests on separate connections") {
    for (int i = 0; i < 6; ++i) CHECK(get(proxy.port(), "/rr").status() == 200);
  }
  SUBCASE("requests on one keep-alive connection") {
    tcp_client client{proxy.port()};
    auto d = after(10s);
    for (int i = 0; i < 6; ++i) {
      REQUIRE(client.send(make_request("GET", "/rr"), d));
      CHECK(client.read_response(d).status() == 200);
    }
  }
  CHECK(a.request_count() == 2);
  CHECK(b.request_count() == 2);
  CHECK(c.request_count() == 2);
}

TEST_CASE("proxy: pipelined requests are answered in order") {
  // /slow is answered late, so a proxy that let a later response overtake it would show.
  stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      if (request->head.target == "/slow") co_await c.sleep(100ms);
      std::string body = request->head.target + " " + request->body;
      bool ok = co_await c.respond(200, std::move(body));
      if (!ok) co_return;
    }
  }};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};

  tcp_client client{proxy.port()};
  auto d = after(10s);
  std::string burst = make_request("GET", "/slow") + make_request("POST", "/b", {}, "bee") +
                      make_request("HEAD", "/c") + make_request("GET", "/d");
  REQUIRE(client.send(burst, d));  // one write
  auto r1 = client.read_response(d);
  auto r2 = client.read_response(d);
  auto r3 = client.read_response(d, {.head_request = true});
  auto r4 = client.read_response(d);
  CHECK(r1.body == "/slow ");
  CHECK(r2.body == "/b bee");
  CHECK(r3.status() == 200);
  CHECK(r3.complete);
  CHECK(r3.body.empty());
  CHECK(r4.body == "/d ");
  CHECK(upstream.request_count() == 4);
}

TEST_CASE("proxy: Expect: 100-continue") {
  SUBCASE("gantryd answers 100 Continue itself and does not forward the expectation") {
    stub_upstream upstream{stub::echo()};
    gantryd proxy{{.upstreams = {upstream.address()}}};
    tcp_client client{proxy.port()};
    auto d = after(10s);
    REQUIRE(
        client.send("PUT /upload HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\n"
                    "Content-Length: 11\r\n\r\n",
                    d));
    // The body is held back until the interim response arrives.
    auto interim = client.read_response(after(5s), {.stop_at_interim = true});
    INFO(interim.summary());
    CHECK(interim.status() == 100);
    REQUIRE(client.send("hello world", d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body == "PUT /upload");
    REQUIRE(upstream.wait_for_complete_requests(1, d));
    auto got = upstream.requests().at(0);
    CHECK_FALSE(got.head.fields.contains("Expect"));
    CHECK(got.body == "hello world");
  }

  SUBCASE("an upstream's own 100 Continue does not end the exchange") {
    stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
      for (;;) {
        if (!co_await c.read_head()) co_return;
        co_await c.write("HTTP/1.1 100 Continue\r\n\r\n");
        if (!co_await c.read_body()) co_return;
        std::string body = "got " + c.current().body;
        if (!co_await c.respond(201, std::move(body))) co_return;
      }
    }};
    gantryd proxy{{.upstreams = {upstream.address()}}};
    tcp_client client{proxy.port()};
    auto d = after(10s);
    REQUIRE(client.send(make_request("POST", "/a", {}, "data"), d));
    auto r = client.read_response(d);
    INFO(r.summary());
    CHECK(r.status() == 201);
    CHECK(r.body == "got data");
    // And the connection is still in step for the next exchange.
    REQUIRE(client.send(make_request("POST", "/b", {}, "more"), d));
    auto r2 = client.read_response(d);
    CHECK(r2.status() == 201);
    CHECK(r2.body == "got more");
  }
}

TEST_CASE("proxy: HEAD, 204 and 304 responses have no body") {
  // One upstream connection serves them all: if gantryd read a body after any of them, the
  // next exchange would hang or come back garbled.
  stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      const auto& t = request->head.target;
      std::vector<std::string> fields;
      int status = 200;
      if (t == "/head-length") {
        fields = {"Content-Length: 1000"};
      } else if (t == "/head-chunked") {
        fields = {"Transfer-Encoding: chunked"};
      } else if (t == "/no-content") {
        status = 204;
      } else if (t == "/not-modified") {
        status = 304;
        fields = {"ETag: \"v1\"", "Content-Length: 500"};
      } else {
        bool ok = co_await c.respond(200, "after " + t);
        if (!ok) co_return;
        continue;
      }
      if (!co_await c.write_head(status, std::move(fields))) co_return;
    }
  }};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  tcp_client client{proxy.port()};
  auto d = after(10s);

  SUBCASE("HEAD with a Content-Length") {
    REQUIRE(client.send(make_request("HEAD", "/head-length"), d));
    auto r = client.read_response(d, {.head_request = true});
    CHECK(r.status() == 200);
    CHECK(r.complete);
    CHECK(r.header("Content-Length") == "1000");
  }
  SUBCASE("HEAD with chunked framing") {
    REQUIRE(client.send(make_request("HEAD", "/head-chunked"), d));
    auto r = client.read_response(d, {.head_request = true});
    CHECK(r.status() == 200);
    CHECK(r.complete);
  }
  SUBCASE("204 No Content") {
    REQUIRE(client.send(make_request("GET", "/no-content"), d));
    auto r = client.read_response(d);
    CHECK(r.status() == 204);
    CHECK(r.complete);
    CHECK_FALSE(r.head.fields.contains("Transfer-Encoding"));
  }
  SUBCASE("304 Not Modified with the representation's Content-Length") {
    REQUIRE(client.send(make_request("GET", "/not-modified", {"If-None-Match: \"v1\""}), d));
    auto r = client.read_response(d);
    CHECK(r.status() == 304);
    CHECK(r.complete);
    CHECK(r.body.empty());
    CHECK(r.header("ETag") == "\"v1\"");
  }
  // The next exchange comes out right on the same client and upstream connections.
  REQUIRE(client.send(make_request("GET", "/next"), d));
  auto next = client.read_response(d);
  INFO(next.summary());
  CHECK(next.status() == 200);
  CHECK(next.body == "after /next");
  CHECK(upstream.connection_count() == 1);
}

TEST_CASE("proxy: malformed requests get 400 and the connection closes") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()}}};
  std::string request;
  int expected = 400;
  SUBCASE("field without a colon") { request = "GET / HTTP/1.1\r\nHost test\r\n\r\n"; }
  SUBCASE("bad Content-Length") {
    request = "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n";
  }
  SUBCASE("Content-Length and Transfer-Encoding together (smuggling)") {
    request =
        "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  }
  SUBCASE("two different Content-Lengths") {
    request =
        "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
        "hello!";
  }
  SUBCASE("not HTTP at all") { request = "HELLO THERE\r\n\r\n"; }
  SUBCASE("space before the colon") { request = "GET / HTTP/1.1\r\nHost : test\r\n\r\n"; }
  SUBCASE("bare CR inside a field value") {
    request = "GET / HTTP/1.1\r\nHost: test\r\nX-A: a\rb\r\n\r\n";
  }
  SUBCASE("target too long: 414") {
    request = "GET /" + std::string(16 * 1024, 'a') + " HTTP/1.1\r\nHost: test\r\n\r\n";
    expected = 414;
  }
  SUBCASE("header section too large: 431") {
    request = "GET / HTTP/1.1\r\nHost: test\r\n";
    for (int i = 0; i < 200; ++i) request += "X-Field-" + std::to_string(i) + ": value\r\n";
    request += "\r\n";
    expected = 431;
  }
  SUBCASE("HTTP/2.0 on an HTTP/1 connection: 505") {
    request = "GET / HTTP/2.0\r\nHost: test\r\n\r\n";
    expected = 505;
  }
  CAPTURE(request.substr(0, 100));
  tcp_client client{proxy.port()};
  auto d = after(10s);
  client.send(request, d);  // gantryd may answer and close before it has read it all
  auto r = client.read_response(d);
  INFO(r.summary());
  CHECK(r.status() == expected);
  CHECK(r.complete);
  CHECK(client.wait_for_close(after(5s)));
  CHECK(upstream.request_count() == 0);
  // gantryd is still there for well-formed requests.
  CHECK(get(proxy.port(), "/fine").status() == 200);
}

TEST_CASE("proxy: a malformed chunked body after a good head") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()}}};
  tcp_client client{proxy.port()};
  auto d = after(10s);
  REQUIRE(
      client.send("POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\nzz\r\n",
                  d));
  // The head may already have gone upstream; the client must not get a 200 for a body that
  // never arrived, and the connection must end.
  std::string received;
  CHECK(client.wait_for_close(after(5s), &received));
  INFO("received: ", received);
  CHECK((received.empty() || received.rfind("HTTP/1.1 400", 0) == 0));
  for (const auto& request : upstream.requests()) CHECK_FALSE(request.complete);
}

TEST_CASE("proxy: client connection management") {
  stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      if (request->head.target == "/chunked") {
        std::vector<std::string> fields{"Transfer-Encoding: chunked"};
        if (!co_await c.write_head(200, std::move(fields))) co_return;
        if (!co_await c.write("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")) co_return;
        continue;
      }
      if (!co_await c.respond(200, "plain")) co_return;
    }
  }};
  gantryd proxy{{.upstreams = {upstream.address()}}};
  tcp_client client{proxy.port()};
  auto d = after(10s);

  SUBCASE("Connection: close from the client: the response, then the close") {
    REQUIRE(client.send(make_request("GET", "/", {"Connection: close"}), d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body == "plain");
    CHECK_FALSE(r.keep_alive);
    CHECK(client.wait_for_close(after(5s)));
  }
  SUBCASE("HTTP/1.0 without keep-alive: the response, then the close") {
    REQUIRE(client.send("GET / HTTP/1.0\r\nHost: test\r\n\r\n", d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body == "plain");
    CHECK(client.wait_for_close(after(5s)));
  }
  SUBCASE("HTTP/1.0 client, chunked upstream response: not chunked to the client") {
    REQUIRE(client.send("GET /chunked HTTP/1.0\r\nHost: test\r\n\r\n", d));
    auto r = client.read_response(d);
    INFO(r.summary());
    CHECK(r.status() == 200);
    CHECK_FALSE(r.chunked);
    CHECK(r.complete);
    CHECK(r.body == "hello world");
  }
  SUBCASE("HTTP/1.0 with keep-alive: the connection stays") {
    REQUIRE(client.send("GET / HTTP/1.0\r\nHost: test\r\nConnection: keep-alive\r\n\r\n", d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body == "plain");
    if (r.keep_alive) {
      REQUIRE(client.send("GET / HTTP/1.0\r\nHost: test\r\nConnection: keep-alive\r\n\r\n", d));
      CHECK(client.read_response(d).body == "plain");
    } else {
      CHECK(client.wait_for_close(after(5s)));
    }
  }
  SUBCASE("the upstream request is HTTP/1.1 even for an HTTP/1.0 client") {
    REQUIRE(client.send("GET / HTTP/1.0\r\nHost: test\r\n\r\n", d));
    CHECK(client.read_response(d).status() == 200);
    REQUIRE(upstream.wait_for_requests(1, d));
    CHECK(upstream.requests().at(0).head.version == gantry::http::http_1_1);
  }
}
