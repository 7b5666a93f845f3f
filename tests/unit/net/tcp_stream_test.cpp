// The TCP byte stream on loopback: reads that never wait, gathered writes, readiness, the
// half-close, and the reuse probe for pooled connections.
#include "gantry/net/tcp_stream.hpp"

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using gantry::core::use_tuple;
using gantry::net::tcp_stream;

namespace {

// A connected pair on loopback: the stream under test, and a plain socket as its peer.
struct loopback_pair {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  asio::ip::tcp::socket peer{io};
  tcp_stream stream{connect_peer()};

  asio::ip::tcp::socket connect_peer() {
    peer.connect(acceptor.local_endpoint());
    return acceptor.accept();
  }
};

}  // namespace

TEST_CASE("tcp_stream: read_some_now never waits") {
  loopback_pair p;
  char buffer[16];
  std::error_code ec;
  CHECK(p.stream.read_some_now(asio::buffer(buffer), ec) == 0);
  CHECK(ec == asio::error::would_block);

  asio::write(p.peer, asio::buffer(std::string_view{"abc"}));
  // The bytes are on loopback at once; wait for readiness rather than assume it.
  bool readable = false;
  p.stream.async_wait_readable([&](std::error_code e) { readable = !e; });
  p.io.run_for(5s);
  REQUIRE(readable);
  const std::size_t n = p.stream.read_some_now(asio::buffer(buffer), ec);
  CHECK(!ec);
  CHECK(std::string_view{buffer, n} == "abc");
}

TEST_CASE("tcp_stream: a gathered write arrives whole and in order") {
  loopback_pair p;
  const std::string big(256 * 1024, 'x');  // more than the socket takes in one call
  std::error_code write_ec;
  std::size_t written = 0;
  asio::co_spawn(
      p.io,
      [&]() -> asio::awaitable<void> {
        auto [ec, n] = co_await p.stream.async_write(
            {asio::buffer(std::string_view{"head:"}), asio::buffer(big)}, use_tuple);
        write_ec = ec;
        written = n;
        p.stream.shutdown_send(ec);
      },
      asio::detached);
  std::string received;
  std::thread reader{[&] {
    char buffer[65536];
    std::error_code ec;
    while (!ec) received.append(buffer, p.peer.read_some(asio::buffer(buffer), ec));
  }};
  p.io.run_for(10s);
  reader.join();
  CHECK(!write_ec);
  CHECK(written == 5 + big.size());
  CHECK(received == "head:" + big);  // and then the end: shutdown_send told the peer
}

TEST_CASE("tcp_stream: after shutdown_send the stream still reads") {
  loopback_pair p;
  std::error_code ec;
  p.stream.shutdown_send(ec);
  CHECK(!ec);
  char buffer[8];
  asio::read(p.peer, asio::buffer(buffer, 1), ec);
  CHECK(ec == asio::error::eof);
  asio::write(p.peer, asio::buffer(std::string_view{"late"}));
  std::string got;
  p.stream.async_read_some(asio::buffer(buffer), [&](std::error_code e, std::size_t n) {
    if (!e) got.assign(buffer, n);
  });
  p.io.run_for(5s);
  CHECK(got == "late");
}

TEST_CASE("tcp_stream: the reuse probe") {
  loopback_pair p;
  SUBCASE("an idle connection is reusable") { CHECK(p.stream.reusable()); }
  SUBCASE("not once the peer sent bytes nobody asked for") {
    asio::write(p.peer, asio::buffer(std::string_view{"HTTP/1.1 408 Request Timeout\r\n"}));
    bool readable = false;
    p.stream.async_wait_readable([&](std::error_code e) { readable = !e; });
    p.io.run_for(5s);
    REQUIRE(readable);
    CHECK_FALSE(p.stream.reusable());
  }
  SUBCASE("not once the peer closed it") {
    p.peer.close();
    bool readable = false;
    p.stream.async_wait_readable([&](std::error_code e) { readable = !e; });
    p.io.run_for(5s);
    REQUIRE(readable);
    CHECK_FALSE(p.stream.reusable());
  }
}

TEST_CASE("tcp_stream: cancel and close end pending operations") {
  loopback_pair p;
  char buffer[8];
  std::error_code read_ec;
  p.stream.async_read_some(asio::buffer(buffer),
                           [&](std::error_code e, std::size_t) { read_ec = e; });
  asio::post(p.io, [&] { p.stream.cancel(); });
  p.io.run_for(5s);
  CHECK(read_ec == asio::error::operation_aborted);
  CHECK(p.stream.is_open());
  p.stream.close();
  CHECK_FALSE(p.stream.is_open());
}

TEST_CASE("tcp_stream: connects, with the addresses of both ends") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  tcp_stream stream{io.get_executor()};
  std::error_code connect_ec = asio::error::would_block;
  stream.async_connect(acceptor.local_endpoint(), [&](std::error_code e) {
    connect_ec = e;
    if (!e) stream.connected(connect_ec);
  });
  io.run_for(5s);
  REQUIRE(!connect_ec);
  CHECK(stream.remote_endpoint() == acceptor.local_endpoint());
  CHECK(stream.local_endpoint().address() == asio::ip::make_address("127.0.0.1"));
  asio::ip::tcp::no_delay nagle_off;
  stream.socket().get_option(nagle_off);
  CHECK(nagle_off.value());
}
