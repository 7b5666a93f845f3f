// When the upstream fails: 502 when it cannot be reached or breaks before a response, 504
// when it is too slow, and a closed client connection (never a forged complete response)
// when it breaks in the middle of one. And when the client fails: gantryd lets go of the
// upstream connection and keeps serving everyone else, leaking nothing.
#include <doctest/doctest.h>

#include "common.hpp"

using namespace gantry::testing;

namespace {

// Fails on purpose according to the request target; /ok is answered normally.
stub_behaviour failing_upstream() {
  return [](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      const std::string target = request->head.target;
      if (target == "/never") {
        co_await c.wait_for_peer_close(std::chrono::seconds{30});
        co_return;
      }
      if (target == "/stall-body") {
        std::vector<std::string> fields{"Content-Length: 1000"};
        co_await c.write_head(200, std::move(fields));
        co_await c.write(std::string(100, 'x'));
        co_await c.wait_for_peer_close(std::chrono::seconds{30});
        co_return;
      }
      if (target == "/close-mid-body") {
        std::vector<std::string> fields{"Content-Length: 100000"};
        co_await c.write_head(200, std::move(fields));
        co_await c.write_pattern(1000);
        co_return;
      }
      if (target == "/close-mid-chunk") {
        std::vector<std::string> fields{"Transfer-Encoding: chunked"};
        co_await c.write_head(200, std::move(fields));
        co_await c.write("10\r\n0123456789abcdef\r\n1000\r\n" + std::string(100, 'y'));
        co_return;
      }
      if (target == "/close-between-chunks") {
        std::vector<std::string> fields{"Transfer-Encoding: chunked"};
        co_await c.write_head(200, std::move(fields));
        co_await c.write("10\r\n0123456789abcdef\r\n");
        co_return;
      }
      if (target == "/close-mid-head") {
        co_await c.write("HTTP/1.1 200 OK\r\nContent-Le");
        co_return;
      }
      if (target == "/close-at-once") co_return;
      if (target == "/reset") {
        c.abort();
        co_return;
      }
      if (target == "/garbage") {
        co_await c.write("SPDY/9 banana\r\n\r\n");
        co_await c.wait_for_peer_close(std::chrono::seconds{30});
        co_return;
      }
      if (target == "/upload") {
        // read_request already read the body (or saw the peer go away mid-body).
        if (!request->complete) co_return;
      }
      if (target.rfind("/big/", 0) == 0) {
        auto size = std::stoull(target.substr(5));
        std::vector<std::string> fields{"Content-Length: " + std::to_string(size)};
        if (!co_await c.write_head(200, std::move(fields))) co_return;
        if (!co_await c.write_pattern(size)) co_return;
        continue;
      }
      std::vector<std::string> fields{"X-Stub-Connection: " + std::to_string(c.index())};
      if (!co_await c.respond(200, "ok " + target, std::move(fields))) co_return;
    }
  };
}

}  // namespace

TEST_CASE("upstream failure: unreachable upstream gives 502") {
  refusing_port dead;
  gantryd proxy{{.upstreams = {dead.address()}}};
  tcp_client client{proxy.port()};
  auto d = after(10s);
  REQUIRE(client.send(make_request("GET", "/"), d));
  auto r = client.read_response(d);
  INFO(r.summary());
  CHECK(r.status() == 502);
  CHECK(r.complete);
  // A 502 is an ordinary response: the client connection goes on, unless the response
  // announced that it closes (and then it must close).
  if (r.keep_alive) {
    REQUIRE(client.send(make_request("GET", "/again"), d));
    CHECK(client.read_response(d).status() == 502);
  } else {
    INFO("the 502 said Connection: close");
    CHECK(client.wait_for_close(after(5s)));
  }
}

TEST_CASE("upstream failure: connect timeout gives 504") {
  // A listener whose accept queue is full drops SYNs: the connect hangs.
  refusing_port full{0};
  tcp_client filler;
  REQUIRE_FALSE(tcp_client::try_connect(full.port(), after(2s), filler));
  tcp_client probe;
  REQUIRE(tcp_client::try_connect(full.port(), after(200ms), probe) ==
          std::make_error_code(std::errc::timed_out));

  gantryd proxy{{.upstreams = {full.address()}, .args = {"--connect-timeout", "300"}}};
  auto start = clock::now();
  auto r = get(proxy.port(), "/");
  auto elapsed = clock::now() - start;
  INFO(r.summary());
  CHECK(r.status() == 504);
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 5s);
}

TEST_CASE("upstream failure: an upstream that does not answer in time gives 504") {
  stub_upstream upstream{failing_upstream()};
  gantryd proxy{{.upstreams = {upstream.address()}, .args = {"--upstream-timeout", "300"}}};
  auto start = clock::now();
  auto r = get(proxy.port(), "/never");
  auto elapsed = clock::now() - start;
  INFO(r.summary());
  CHECK(r.status() == 504);
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 5s);
  // The late exchange's connection is closed, not pooled.
  CHECK(upstream.wait_for_peer_closes(1, after(5s)));
  CHECK(get(proxy.port(), "/ok").status() == 200);
}

TEST_CASE("upstream failure: breaking in the middle of a response") {
  stub_upstream upstream{failing_upstream()};
  gantryd proxy{{.upstreams = {upstream.address()}, .args = {"--upstream-timeout", "300"}}};
  std::string target;
  SUBCASE("closed in the middle of a Content-Length body") { target = "/close-mid-body"; }
  SUBCASE("closed in the middle of a chunk") { target = "/close-mid-chunk"; }
  SUBCASE("closed between chunks") { target = "/close-between-chunks"; }
  SUBCASE("silent in the middle of the body past --upstream-timeout") { target = "/stall-body"; }
  CAPTURE(target);
  tcp_client client{proxy.port()};
  auto d = after(10s);
  REQUIRE(client.send(make_request("GET", target), d));
  auto r = client.read_response(d);
  INFO(r.summary());
  // The head had gone out; all gantryd can do is end the connection early.
  CHECK(r.status() == 200);
  CHECK_FALSE(r.complete);
  CHECK(r.closed);
  CHECK_FALSE(r.timed_out);
  CHECK(get(proxy.port(), "/ok").status() == 200);
}

TEST_CASE("upstream failure: breaking before a response gives 502") {
  stub_upstream upstream{failing_upstream()};
  gantryd proxy{{.upstreams = {upstream.address()}}};
  std::string target;
  SUBCASE("closed in the middle of the head") { target = "/close-mid-head"; }
  SUBCASE("closed without a byte") { target = "/close-at-once"; }
  SUBCASE("reset") { target = "/reset"; }
  SUBCASE("not HTTP") { target = "/garbage"; }
  CAPTURE(target);
  // The first request opens a fresh connection: nothing to retry.
  auto r = get(proxy.port(), target);
  INFO(r.summary());
  CHECK(r.status() == 502);
  CHECK(r.complete);
  CHECK(upstream.connection_count() == 1);
  CHECK(get(proxy.port(), "/ok").status() == 200);
}

TEST_CASE("client failure: disconnecting mid-upload or mid-download") {
  stub_upstream upstream{failing_upstream()};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  CHECK(get(proxy.port(), "/ok").status() == 200);
  const int baseline = proxy.fd_count();
  REQUIRE(baseline > 0);
  auto d = after(30s);

  bool reset = false;
  bool upload = true;
  SUBCASE("upload, client closes") {}
  SUBCASE("upload, client resets") { reset = true; }
  SUBCASE("download, client closes") { upload = false; }
  SUBCASE("download, client resets") {
    upload = false;
    reset = true;
  }
  CAPTURE(upload);
  CAPTURE(reset);

  tcp_client leaving{proxy.port()};
  if (upload) {
    REQUIRE(leaving.send("PUT /upload HTTP/1.1\r\nHost: test\r\nContent-Length: " +
                             std::to_string(100u << 20) + "\r\n\r\n",
                         d));
    REQUIRE(leaving.send_pattern(1 << 20, d));
    REQUIRE(upstream.wait_for_requests(2, d));
  } else {
    REQUIRE(leaving.send(make_request("GET", "/big/" + std::to_string(256u << 20)), d));
    auto some = leaving.read_some(d);
    CHECK_FALSE(some.empty());
  }

  // Others are served while that exchange is in progress...
  auto other = get(proxy.port(), "/ok");
  CHECK(other.status() == 200);

  if (reset) {
    leaving.abort();
  } else {
    leaving.close();
  }
  // ...the upstream connection of the abandoned exchange is closed...
  CHECK(upstream.wait_for_peer_closes(1, d));
  // ...and afterwards.
  CHECK(get(proxy.port(), "/ok").status() == 200);
  // Nothing leaks: gantryd is back to its listener, its internals and one idle upstream
  // connection.
  bool back = eventually([&] { return proxy.fd_count() <= baseline; }, after(5s));
  INFO("fds: baseline ", baseline, ", now ", proxy.fd_count());
  CHECK(back);
  CHECK(upstream.errors().empty());
}
