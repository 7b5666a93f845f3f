// The gateway's exchange flow over the test kit's in-memory stream: keep-alive, pipelining,
// every byte split, 100-continue, a throwing policy, a failing write and a malformed head,
// with no socket on the client side.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gantry/gateway/gateway.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/testing/memory_stream.hpp"

using namespace std::chrono_literals;
using gantry::testing::memory_stream;

namespace {

// Counts log phases and remembers what each saw; throws in the request head for "/boom".
struct recorder {
  std::shared_ptr<std::vector<std::string>> logged = std::make_shared<std::vector<std::string>>();

  gantry::policy::verdict on_request_head(gantry::policy::exchange& ex) const {
    if (ex.request.target == "/boom") throw std::runtime_error("boom");
    return gantry::policy::verdict::continue_;
  }
  void on_log(gantry::policy::exchange& ex) const {
    logged->push_back(ex.request.target + " " +
                      std::to_string(static_cast<unsigned>(ex.response.status)) + " " +
                      std::string{ex.downstream.peer_address});
  }
};

gantry::route::route direct(std::string path, std::string body) {
  return {.name = path,
          .match = {.path = gantry::route::path_exact{path}},
          .action = gantry::route::direct_response{.body = std::move(body)}};
}

// A gateway on a private io_context with a few local routes, serving in-memory connections.
struct memory_gateway {
  recorder log;
  asio::io_context io;
  gantry::gateway gw{io};

  memory_gateway() {
    gantry::gateway_config config;
    config.policies = {{.name = "log", .chain = gantry::policy::chain{}.add(log)}};
    config.listener_policies = {"log"};
    config.routes = {direct("/a", "A"), direct("/b", "B"), direct("/boom", "never")};
    gw.configure(std::move(config));
  }
  ~memory_gateway() {
    gw.stop();
    io.run_for(5s);
  }

  // Serves `conn` until the gateway closes it; what the gateway wrote.
  std::string serve(memory_stream conn) {
    conn.set_endpoints({asio::ip::make_address("192.0.2.7"), 40000},
                       {asio::ip::make_address("127.0.0.1"), 8080});
    gw.serve(conn);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (conn.is_open() && std::chrono::steady_clock::now() < deadline) io.run_one_for(1s);
    CHECK_FALSE(conn.is_open());
    return std::string{conn.written()};
  }

  // Serves a connection that sends `requests` (at most `read_limit` bytes per read, when not
  // 0) and then ends; what the gateway wrote.
  std::string answer(std::string_view requests, std::size_t read_limit = 0) {
    memory_stream conn{io.get_executor()};
    if (read_limit != 0) conn.set_read_limit(read_limit);
    conn.feed(requests);
    conn.feed_end();
    return serve(conn);
  }
};

int count(std::string_view text, std::string_view what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

constexpr std::string_view two_requests =
    "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n";

}  // namespace

TEST_CASE("in memory: pipelined requests on one connection are answered in order") {
  memory_gateway g;
  const std::string out = g.answer(two_requests);
  INFO(out);
  CHECK(count(out, "HTTP/1.1 200 OK\r\n") == 2);
  CHECK(out.find("\r\n\r\nA") < out.find("\r\n\r\nB"));
  CHECK(out.find("Connection: close") == std::string::npos);  // both kept the connection
  REQUIRE(g.log.logged->size() == 2);
  CHECK((*g.log.logged)[0] == "/a 200 192.0.2.7");
  CHECK((*g.log.logged)[1] == "/b 200 192.0.2.7");
}

TEST_CASE("in memory: the answer is the same whatever the split of the requests") {
  const std::string whole = memory_gateway{}.answer(two_requests);
  for (std::size_t limit : {1, 2, 3, 7, 16, 29}) {
    CAPTURE(limit);
    memory_gateway g;
    CHECK(g.answer(two_requests, limit) == whole);
    CHECK(g.log.logged->size() == 2);
  }
}

TEST_CASE("in memory: a request with Expect: 100-continue answered locally is not read on") {
  memory_gateway g;
  const std::string out =
      g.answer("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  INFO(out);
  // The route answers without the body: no 100 Continue, and the unread body ends the
  // connection.
  CHECK(out.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(out.find("100 Continue") == std::string::npos);
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
}

TEST_CASE("in memory: a policy that throws gets the client a 500 and the log phase still runs") {
  memory_gateway g;
  const std::string out =
      g.answer("GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /a HTTP/1.1\r\nHost: t\r\n\r\n");
  INFO(out);
  CHECK(out.starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
  CHECK(count(out, "HTTP/1.1 ") == 1);  // the connection ended: /a was not served
  REQUIRE(g.log.logged->size() == 1);
  CHECK((*g.log.logged)[0] == "/boom 500 192.0.2.7");
}

TEST_CASE("in memory: a malformed head gets a plain 400 that no policy sees") {
  memory_gateway g;
  const std::string out = g.answer("GET /a HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n");
  CHECK(out.starts_with("HTTP/1.1 400 Bad Request\r\n"));
  CHECK(g.log.logged->empty());
}

TEST_CASE("in memory: a client that fails mid-exchange ends the connection, and is logged") {
  memory_gateway g;
  memory_stream conn{g.io.get_executor()};
  conn.feed(two_requests);
  // The first operation reads the requests; the second, the first response's write, fails.
  conn.fail_from(2, asio::error::broken_pipe);
  const std::string out = g.serve(conn);
  CHECK(out.empty());
  REQUIRE(g.log.logged->size() == 1);  // /b was never started
  CHECK((*g.log.logged)[0] == "/a 200 192.0.2.7");
}

namespace {

// Remembers every response body piece its phase sees, as "data|eos".
struct body_watcher {
  std::shared_ptr<std::vector<std::string>> pieces = std::make_shared<std::vector<std::string>>();

  gantry::policy::verdict on_response_body(gantry::policy::exchange&,
                                           gantry::policy::body_chunk& c) const {
    pieces->push_back(std::string{c.data} + (c.end_of_stream ? "|eos" : "|"));
    return gantry::policy::verdict::continue_;
  }
};

}  // namespace

TEST_CASE("in memory: a local answer reaches the response body phase only with a body") {
  body_watcher watcher;
  asio::io_context io;
  {
    gantry::gateway gw{io};
    gantry::gateway_config config;
    config.policies = {{.name = "watch", .chain = gantry::policy::chain{}.add(watcher)}};
    config.listener_policies = {"watch"};
    config.routes = {direct("/a", "A"), direct("/empty", "")};
    gw.configure(std::move(config));

    memory_stream conn{io.get_executor()};
    conn.feed("GET /empty HTTP/1.1\r\nHost: t\r\n\r\nGET /a HTTP/1.1\r\nHost: t\r\n\r\n");
    conn.feed_end();
    gw.serve(conn);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (conn.is_open() && std::chrono::steady_clock::now() < deadline) io.run_one_for(1s);
    const std::string out{conn.written()};
    INFO(out);
    CHECK(count(out, "HTTP/1.1 200 OK\r\n") == 2);
    CHECK(out.find("Content-Length: 0\r\n") != std::string::npos);
    gw.stop();
    io.run_for(5s);
  }
  // The empty body is no piece; the other is one last piece.
  REQUIRE(watcher.pieces->size() == 1);
  CHECK((*watcher.pieces)[0] == "A|eos");
}
