// Faults with real processes on loopback, and what must hold after each: the right status
// where a response is still possible, no broken connection reused, and gantryd's descriptors
// back to where they started. Upstreams that break HTTP framing or stop reading, 10 000 idle
// clients, a slowloris population next to normal clients, and handshakes that fail or stall
// on a TLS port.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common.hpp"
#include "support/curl.hpp"
#include "support/test_pki.hpp"

using namespace gantry::testing;

namespace {

// Answers according to the request target with a response whose framing is broken; any
// other target gets 200 "ok TARGET" with the connection's index.
stub_behaviour misframing_upstream() {
  return [](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      const std::string target = request->head.target;
      std::string raw;
      if (target == "/cl-and-te")
        raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n0\r\n\r\n";
      else if (target == "/two-lengths")
        raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
      else if (target == "/bad-length")
        raw = "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello";
      else if (target == "/bad-chunk")
        raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
      else if (target == "/bare-lf")
        raw = "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello";
      else if (target == "/huge-head")
        raw = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(100 * 1024, 'b') +
              "\r\nContent-Length: 0\r\n\r\n";
      else if (target == "/extra-bytes")  // a complete response, then bytes nobody asked for
        raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n"
              "Content-Length: 6\r\n\r\nforged";
      if (raw.empty()) {
        std::vector<std::string> fields{"X-Stub-Connection: " + std::to_string(c.index())};
        if (!co_await c.respond(200, "ok " + target, std::move(fields))) co_return;
        continue;
      }
      if (!co_await c.write(raw)) co_return;
      if (target != "/extra-bytes") {
        co_await c.wait_for_peer_close(std::chrono::seconds{30});
        co_return;
      }
    }
  };
}

// Reads requests and never a byte of their bodies: the upload fills the socket buffers.
stub_behaviour never_reading_upstream() {
  return [](stub_connection& c) -> asio::awaitable<void> {
    co_await c.read_head();
    co_await c.wait_gate();
  };
}

// gantryd's descriptor count once the connections of earlier requests have closed on its
// side too: the same for 200 ms.
int settled_fd_count(gantryd& proxy) {
  int last = proxy.fd_count();
  for (int same = 0; same < 4;) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    const int now = proxy.fd_count();
    same = now == last ? same + 1 : 0;
    last = now;
  }
  return last;
}

// gantryd's descriptors come back to `baseline` (listener, internals, idle pool).
void check_fds_back(gantryd& proxy, int baseline) {
  const bool back = eventually([&] { return proxy.fd_count() <= baseline; }, after(10s));
  INFO("fds: baseline ", baseline, ", now ", proxy.fd_count());
  CHECK(back);
}

}  // namespace

TEST_CASE("faults: an upstream response with broken framing is a 502, its connection dropped") {
  stub_upstream upstream{misframing_upstream()};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  CHECK(get(proxy.port(), "/ok").status() == 200);  // one pooled connection
  const int baseline = settled_fd_count(proxy);

  std::size_t broken = 0;
  for (std::string_view target :
       {"/cl-and-te", "/two-lengths", "/bad-length", "/bare-lf", "/huge-head"}) {
    CAPTURE(target);
    auto r = get(proxy.port(), target);
    CHECK(r.status() == 502);
    CHECK(r.complete);
    // The broken connection is closed, never pooled: the next request needs a new one.
    CHECK(upstream.wait_for_peer_closes(++broken, after(5s)));
    auto next = get(proxy.port(), "/ok");
    CHECK(next.status() == 200);
  }

  // Broken framing in the body, after the head went out: the client connection is closed
  // before a response that could pass for complete.
  auto d = after(10s);
  tcp_client client{proxy.port(), d};
  REQUIRE(client.send(make_request("GET", "/bad-chunk"), d));
  auto r = client.read_response(d);
  CHECK(!r.complete);
  CHECK(r.closed);
  CHECK(upstream.wait_for_peer_closes(++broken, after(5s)));
  CHECK(get(proxy.port(), "/ok").status() == 200);

  check_fds_back(proxy, baseline);
  CHECK(upstream.errors().empty());
}

TEST_CASE("faults: bytes after a complete upstream response are never read as a response") {
  stub_upstream upstream{misframing_upstream()};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};

  auto d = after(10s);
  tcp_client client{proxy.port(), d};
  REQUIRE(client.send(make_request("GET", "/extra-bytes"), d));
  auto r = client.read_response(d);
  CHECK(r.status() == 200);
  CHECK(r.body == "hello");
  // The next exchange must not get the forged response left on that connection.
  REQUIRE(client.send(make_request("GET", "/ok"), d));
  r = client.read_response(d);
  CHECK(r.status() == 200);
  CHECK(r.body == "ok /ok");
  CHECK(r.header("X-Stub-Connection") != "0");
}

TEST_CASE("faults: an upstream that accepts and never reads an upload") {
  stub_upstream upstream{never_reading_upstream()};
  gantryd proxy{{.upstreams = {upstream.address()},
                 .workers = 1,
                 .args = {"--upstream-timeout", "500", "--body-timeout", "500"}}};
  const int baseline = settled_fd_count(proxy);

  auto d = after(20s);
  tcp_client client{proxy.port(), d};
  REQUIRE(client.send("PUT /upload HTTP/1.1\r\nHost: test\r\nContent-Length: " +
                          std::to_string(64u << 20) + "\r\n\r\n",
                      d));
  client.send_pattern(64u << 20, after(5s));  // stops when every buffer on the way is full
  auto r = client.read_response(d);
  INFO(r.summary());
  CHECK(r.status() == 504);  // the upstream went silent: it neither read nor answered
  CHECK(client.wait_for_close(d));
  upstream.open_gate();
  check_fds_back(proxy, baseline);
}

TEST_CASE("faults: 10 000 idle client connections are held, cost little, and let go") {
  stub_upstream upstream{stub::echo()};
  // One worker (one upstream pool, so the descriptor count is exact), with room for all.
  gantryd proxy{{.upstreams = {upstream.address()},
                 .workers = 1,
                 .args = {"--max-connections", "10100", "--max-total-connections", "10100"}}};
  CHECK(get(proxy.port(), "/warm").status() == 200);
  const int baseline = settled_fd_count(proxy);
  const auto before = proxy.memory();

  constexpr int idle_count = 10'000;
  std::vector<tcp_client> idle;
  idle.reserve(idle_count);
  auto d = after(60s);
  for (int i = 0; i < idle_count; ++i) {
    tcp_client c;
    REQUIRE(!tcp_client::try_connect(proxy.port(), d, c));
    idle.push_back(std::move(c));
  }
  const bool all_accepted =
      eventually([&] { return proxy.fd_count() >= baseline + idle_count; }, d, 20ms);
  INFO("fds: baseline ", baseline, ", now ", proxy.fd_count());
  REQUIRE(all_accepted);
  const auto held = proxy.memory();
  const double per_connection =
      static_cast<double>(held.rss - before.rss) / static_cast<double>(idle_count);
  MESSAGE(idle_count, " idle connections: gantryd RSS ", mib(before.rss), " -> ", mib(held.rss),
          " MiB, ", per_connection / 1024, " KiB each");
  // Idle connections hold no buffers of their own (they are taken when bytes arrive). The
  // address sanitizer's redzones and quarantine make every allocation bigger: no bound there.
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(per_connection < 8 * 1024);
#endif

  // A client among them is served as usual.
  auto r = get(proxy.port(), "/among-idle");
  CHECK(r.status() == 200);

  idle.clear();  // every idle client closes
  check_fds_back(proxy, baseline);
  CHECK(get(proxy.port(), "/after").status() == 200);
}

TEST_CASE("faults: a slowloris population does not starve normal clients") {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()},
                 .workers = 1,
                 .args = {"--request-head-timeout", "1500"}}};
  CHECK(get(proxy.port(), "/warm").status() == 200);  // one pooled upstream connection
  const int baseline = settled_fd_count(proxy);

  // 500 clients that send a head one byte at a time and never finish it.
  constexpr int slow_count = 500;
  auto d = after(30s);
  std::vector<tcp_client> slow;
  for (int i = 0; i < slow_count; ++i) {
    slow.emplace_back(proxy.port(), d);
    REQUIRE(slow.back().send("GET /slow HTTP/1.1\r\nHost: test\r\nX-Drip: ", d));
  }
  // Normal clients meanwhile, while the slow ones keep dripping.
  int served = 0;
  for (int round = 0; round < 10; ++round) {
    for (auto& s : slow) s.send("a", d);
    for (int i = 0; i < 10; ++i) served += get(proxy.port(), "/normal").status() == 200;
  }
  CHECK(served == 100);

  // The slow heads end at the head timeout, with a 408, and their connections close.
  int timed_out = 0;
  for (auto& s : slow) {
    auto r = s.read_response(d);
    timed_out += r.status() == 408;
  }
  CHECK(timed_out == slow_count);
  for (auto& s : slow) CHECK(s.wait_for_close(d));
  CHECK(upstream.request_count() == 101);  // no slow request reached the upstream
  slow.clear();
  check_fds_back(proxy, baseline);
}

TEST_CASE("faults: plain HTTP, garbage, truncated and stalled handshakes on a TLS port") {
  test_pki pki;
  const auto cert = pki.issue("api.example.com", {"api.example.com"});
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()},
                 .workers = 1,
                 .args = {"--tls-cert", cert.chain.string(), "--tls-key", cert.key.string(),
                          "--admin", "127.0.0.1:0", "--request-head-timeout", "500"}}};
  const std::string admin_line = "gantryd admin on 127.0.0.1:";
  const auto admin = proxy.process().wait_for_line(admin_line, after(10s));
  REQUIRE(admin);
  const auto admin_port = static_cast<std::uint16_t>(std::stoul(admin->substr(admin_line.size())));
  auto https_get = [&] {
    return run_curl({"--cacert", pki.ca().string(), "--resolve",
                     "api.example.com:" + std::to_string(proxy.port()) + ":127.0.0.1",
                     "https://api.example.com:" + std::to_string(proxy.port()) + "/ok"},
                    after(30s));
  };
  REQUIRE(https_get().status.ok());
  const int baseline = settled_fd_count(proxy);
  auto d = after(30s);
  // The first bytes of a ClientHello whose record says 64 bytes follow.
  const std::string_view half_hello{"\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03", 11};

  {
    // Plain HTTP, and a record of garbage: closed at once, never answered in HTTP.
    tcp_client plain{proxy.port(), d};
    REQUIRE(plain.send("GET / HTTP/1.1\r\nHost: api\r\n\r\n", d));
    std::string got;
    CHECK(plain.wait_for_close(after(5s), &got));
    CHECK(got.find("HTTP/1.1") == std::string::npos);
    tcp_client garbage{proxy.port(), d};
    REQUIRE(garbage.send(std::string_view{"\x16\x03\x03\x00\x05\xde\xad\xbe\xef\x00", 10}, d));
    CHECK(garbage.wait_for_close(after(5s)));
    // Half a ClientHello, then the client's end: a truncated handshake.
    tcp_client truncated{proxy.port(), d};
    REQUIRE(truncated.send(half_hello, d));
    truncated.shutdown_send();
    CHECK(truncated.wait_for_close(after(5s)));
  }
  {
    // Twenty handshakes that stall half way: each closed at the head's timeout, while a
    // normal client is served meanwhile.
    std::vector<tcp_client> stalled;
    for (int i = 0; i < 20; ++i) {
      stalled.emplace_back(proxy.port(), d);
      REQUIRE(stalled.back().send(half_hello, d));
    }
    CHECK(https_get().status.ok());
    for (auto& s : stalled) CHECK(s.wait_for_close(after(10s)));
  }
  check_fds_back(proxy, baseline);

  // Each counted by how it ended.
  const std::string metrics = get(admin_port, "/metrics").body;
  INFO(metrics);
  auto has = [&](std::string_view line) { return metrics.find(line) != std::string::npos; };
  CHECK(has("gantry_tls_handshakes_total{result=\"full\"} 2\n"));
  CHECK(has("gantry_tls_handshakes_total{result=\"failed\"} 3\n"));
  CHECK(has("gantry_tls_handshakes_total{result=\"timed_out\"} 20\n"));
  CHECK(has("gantry_connections_total 26\n"));  // with this scrape's own
  CHECK(upstream.request_count() == 2);
}
