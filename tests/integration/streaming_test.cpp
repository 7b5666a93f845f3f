// Bodies stream through gantryd in both directions, Content-Length and chunked, with
// backpressure: a slow reader on one side slows the writer on the other, and gantryd's
// memory stays flat.
#include <doctest/doctest.h>

#include <cstdlib>

#include "common.hpp"
#include "gantry/http/serializer.hpp"

using namespace gantry::testing;

namespace {

constexpr std::uint64_t mib_64 = 64ull << 20;
constexpr std::uint64_t mib_256 = 256ull << 20;

// Serves the pattern: /cl/N with Content-Length, /chunked/N in 100000-byte chunks with a
// trailer, /close/N delimited by closing the connection. Anything else is echoed.
stub_behaviour pattern_server() {
  return [](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      std::string target = request->head.target;
      auto slash = target.rfind('/');
      std::uint64_t size =
          slash == std::string::npos ? 0 : std::strtoull(target.c_str() + slash + 1, nullptr, 10);
      if (target.rfind("/cl/", 0) == 0) {
        std::vector<std::string> fields{"Content-Length: " + std::to_string(size)};
        if (!co_await c.write_head(200, std::move(fields))) co_return;
        if (!co_await c.write_pattern(size)) co_return;
      } else if (target.rfind("/chunked/", 0) == 0) {
        std::vector<std::string> fields{"Transfer-Encoding: chunked", "Trailer: X-Trailer"};
        if (!co_await c.write_head(200, std::move(fields))) co_return;
        std::uint64_t done = 0;
        while (done < size) {
          auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, 100000));
          std::string line;
          gantry::http::serialize_chunk_size(n, line);
          if (!co_await c.write(std::move(line))) co_return;
          if (!co_await c.write_pattern(n, done)) co_return;
          if (!co_await c.write("\r\n")) co_return;
          done += n;
        }
        if (!co_await c.write("0\r\nX-Trailer: done\r\n\r\n")) co_return;
      } else if (target.rfind("/close/", 0) == 0) {
        std::vector<std::string> fields{"Connection: close"};
        if (!co_await c.write_head(200, std::move(fields))) co_return;
        co_await c.write_pattern(size);
        co_return;
      } else {
        std::string body = std::to_string(request->body_size) + " " +
                           (request->pattern.intact() ? "intact" : "damaged");
        if (!co_await c.respond(200, std::move(body))) co_return;
      }
    }
  };
}

}  // namespace

TEST_CASE("streaming: request bodies") {
  stub_upstream upstream{pattern_server()};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  tcp_client client{proxy.port()};
  auto d = after(60s);

  SUBCASE("a chunked body is forwarded chunked, with its trailers") {
    std::string body =
        make_chunked({"hello ", "chunked ", "world"}, {"X-Checksum: 42", "X-Other: b"});
    REQUIRE(client.send(make_request("POST", "/small", {"Transfer-Encoding: chunked"}) + body, d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    REQUIRE(upstream.wait_for_complete_requests(1, d));
    auto got = upstream.requests().at(0);
    INFO("upstream received:\n", upstream.connections().at(0).received);
    CHECK(got.chunked);
    CHECK_FALSE(got.content_length);
    CHECK(got.body == "hello chunked world");
    CHECK(got.trailers.get("X-Checksum") == "42");
    CHECK(got.trailers.get("X-Other") == "b");
  }

  SUBCASE("64 MiB with Content-Length") {
    REQUIRE(client.send(
        "PUT /big HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(mib_64) + "\r\n\r\n",
        d));
    REQUIRE(client.send_pattern(mib_64, d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body == std::to_string(mib_64) + " intact");
  }

  SUBCASE("64 MiB chunked") {
    REQUIRE(client.send(make_request("PUT", "/big", {"Transfer-Encoding: chunked"}), d));
    REQUIRE(client.send_pattern_chunked(mib_64, 1 << 20, d));
    REQUIRE(client.send("0\r\n\r\n", d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body == std::to_string(mib_64) + " intact");
    CHECK(upstream.requests().at(0).chunked);
  }

  SUBCASE("an empty chunked body") {
    REQUIRE(client.send(
        make_request("POST", "/empty", {"Transfer-Encoding: chunked"}) + "0\r\n\r\n", d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body == "0 intact");
  }
  CHECK(upstream.errors().empty());
}

TEST_CASE("streaming: response bodies") {
  stub_upstream upstream{pattern_server()};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  tcp_client client{proxy.port()};
  auto d = after(60s);

  SUBCASE("64 MiB with Content-Length") {
    REQUIRE(client.send(make_request("GET", "/cl/" + std::to_string(mib_64)), d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.complete);
    CHECK(r.body_size == mib_64);
    CHECK(r.pattern.intact());
    CHECK(r.content_length == mib_64);
  }

  SUBCASE("64 MiB chunked, with a trailer") {
    REQUIRE(client.send(make_request("GET", "/chunked/" + std::to_string(mib_64), {"TE: trailers"}),
                        d));
    auto r = client.read_response(d);
    INFO(r.summary());
    CHECK(r.status() == 200);
    CHECK(r.complete);
    CHECK(r.body_size == mib_64);
    CHECK(r.pattern.intact());
    CHECK(r.trailers.get("X-Trailer") == "done");
  }

  SUBCASE("a body delimited by the upstream closing") {
    REQUIRE(client.send(make_request("GET", "/close/" + std::to_string(1 << 20)), d));
    auto r = client.read_response(d);
    INFO(r.summary());
    CHECK(r.status() == 200);
    CHECK(r.complete);
    CHECK(r.body_size == (1u << 20));
    CHECK(r.pattern.intact());
  }

  SUBCASE("an empty body with Content-Length: 0") {
    REQUIRE(client.send(make_request("GET", "/cl/0"), d));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.complete);
    CHECK(r.body_size == 0);
    // The connection stays in step.
    REQUIRE(client.send(make_request("GET", "/cl/10"), d));
    auto next = client.read_response(d);
    CHECK(next.body_size == 10);
  }
}

TEST_CASE("streaming: backpressure keeps gantryd's memory flat") {
  SUBCASE("an upstream that does not read holds back a client's upload") {
    stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
      for (;;) {
        if (!co_await c.read_head()) co_return;
        if (c.current().head.target == "/gated") co_await c.wait_gate();
        if (!co_await c.read_body({.body_limit = 0})) co_return;
        std::string body = std::to_string(c.current().body_size) + " " +
                           (c.current().pattern.intact() ? "intact" : "damaged");
        if (!co_await c.respond(200, std::move(body))) co_return;
      }
    }};
    gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
    CHECK(fetch(proxy.port(), make_request("POST", "/warm-up", {}, "x")).status() == 200);
    auto before = proxy.memory();

    tcp_client client{proxy.port()};
    auto d = after(60s);
    REQUIRE(client.send("PUT /gated HTTP/1.1\r\nHost: test\r\nContent-Length: " +
                            std::to_string(mib_256) + "\r\n\r\n",
                        d));
    // Write until a MiB has not gone out for half a second.
    const auto head_bytes = client.bytes_sent();
    std::uint64_t sent = 0;  // body bytes
    while (sent < mib_256) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(1 << 20, mib_256 - sent));
      bool ok = client.send(pattern_slice(sent, n), after(500ms));
      sent = client.bytes_sent() - head_bytes;
      if (!ok) break;
    }
    auto stalled = proxy.memory();
    MESSAGE("upload held back after ", mib(sent), " MiB; gantryd RSS ", mib(before.rss), " -> ",
            mib(stalled.rss), " MiB");
    CHECK(sent < mib_256 / 2);
    CHECK(stalled.rss < before.rss + (32u << 20));

    upstream.open_gate();
    REQUIRE(client.send_pattern(mib_256 - sent, d, sent));
    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body == std::to_string(mib_256) + " intact");
  }

  SUBCASE("a client that does not read holds back the upstream's download") {
    stub_upstream upstream{pattern_server()};
    gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
    CHECK(get(proxy.port(), "/cl/1").status() == 200);
    auto before = proxy.memory();

    tcp_client client{proxy.port()};
    auto d = after(60s);
    REQUIRE(client.send(make_request("GET", "/cl/" + std::to_string(mib_256)), d));
    auto written = wait_until_stalled(
        [&] {
          std::uint64_t total = 0;
          for (const auto& record : upstream.connections()) total += record.bytes_sent;
          return total;
        },
        500ms, after(20s));
    auto stalled = proxy.memory();
    MESSAGE("download held back after the upstream wrote ", mib(written), " MiB; gantryd RSS ",
            mib(before.rss), " -> ", mib(stalled.rss), " MiB");
    CHECK(written < mib_256 / 2);
    CHECK(stalled.rss < before.rss + (32u << 20));

    auto r = client.read_response(d);
    CHECK(r.status() == 200);
    CHECK(r.body_size == mib_256);
    CHECK(r.pattern.intact());
  }
}

TEST_CASE("streaming: a slow-reading upstream still gets every byte") {
  stub_upstream upstream{[](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      if (!co_await c.read_head()) co_return;
      if (!co_await c.read_body({.body_limit = 0, .read_size = 16 * 1024, .pause = 1ms})) co_return;
      std::string body = std::to_string(c.current().body_size) + " " +
                         (c.current().pattern.intact() ? "intact" : "damaged");
      if (!co_await c.respond(200, std::move(body))) co_return;
    }
  }};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  tcp_client client{proxy.port()};
  auto d = after(60s);
  constexpr std::uint64_t size = 8u << 20;
  REQUIRE(client.send(
      "PUT /slow HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n",
      d));
  REQUIRE(client.send_pattern(size, d));
  auto r = client.read_response(d);
  CHECK(r.status() == 200);
  CHECK(r.body == std::to_string(size) + " intact");
}
