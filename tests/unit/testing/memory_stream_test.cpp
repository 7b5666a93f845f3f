// The test kit's in-memory stream: splits, ends, failures on the n-th operation, cancel and
// close, the reuse probe, and two connected ends.
#include "gantry/testing/memory_stream.hpp"

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <string>
#include <vector>

using gantry::core::use_tuple;
using gantry::testing::memory_stream;

namespace {

// Reads until the end or an error; the pieces as they came, and how it ended.
struct read_all {
  std::vector<std::string> pieces;
  std::error_code end;

  asio::awaitable<void> operator()(memory_stream& s) {
    char buffer[64];
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buffer), use_tuple);
      if (ec) {
        end = ec;
        co_return;
      }
      pieces.emplace_back(buffer, n);
    }
  }
};

std::string joined(const std::vector<std::string>& pieces) {
  std::string all;
  for (const auto& p : pieces) all += p;
  return all;
}

}  // namespace

TEST_CASE("memory_stream: what is fed is read in the pieces the read limit allows, then eof") {
  asio::io_context io;
  memory_stream s{io.get_executor()};
  s.feed("GET / HTTP/1.1\r\n");
  s.feed("\r\n");
  s.feed_end();
  std::size_t limit = 0;
  SUBCASE("one byte per read") { limit = 1; }
  SUBCASE("five bytes per read") { limit = 5; }
  SUBCASE("no limit: all that is there") { limit = 0; }
  if (limit != 0) s.set_read_limit(limit);
  read_all reader;
  asio::co_spawn(io, reader(s), asio::detached);
  io.run();
  CHECK(joined(reader.pieces) == "GET / HTTP/1.1\r\n\r\n");
  CHECK(reader.end == asio::error::eof);
  for (const auto& p : reader.pieces) CHECK(p.size() <= (limit == 0 ? 64 : limit));
  if (limit == 0) CHECK(reader.pieces.size() == 1);
}

TEST_CASE("memory_stream: an operation never completes inside the call that starts it") {
  asio::io_context io;
  memory_stream s{io.get_executor()};
  s.feed("x");
  char buffer[4];
  bool read_done = false, write_done = false;
  s.async_read_some(asio::buffer(buffer), [&](std::error_code, std::size_t) { read_done = true; });
  s.async_write({asio::buffer(std::string_view{"y"}), asio::const_buffer{}},
                [&](std::error_code, std::size_t) { write_done = true; });
  CHECK_FALSE(read_done);
  CHECK_FALSE(write_done);
  io.run();
  CHECK(read_done);
  CHECK(write_done);
  CHECK(s.written() == "y");
}

TEST_CASE("memory_stream: a read waits for bytes fed later, and so does a wait for readability") {
  asio::io_context io;
  memory_stream s{io.get_executor()};
  bool readable = false;
  std::string got;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [wait_ec] = co_await s.async_wait_readable(use_tuple);
        readable = !wait_ec;
        char buffer[16];
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buffer), use_tuple);
        if (!ec) got.assign(buffer, n);
      },
      asio::detached);
  io.poll();
  CHECK_FALSE(readable);  // nothing fed yet: still waiting
  asio::post(io, [&] { s.feed("late"); });
  io.run();
  CHECK(readable);
  CHECK(got == "late");
}

TEST_CASE("memory_stream: read_some_now never waits") {
  asio::io_context io;
  memory_stream s{io.get_executor()};
  char buffer[8];
  std::error_code ec;
  CHECK(s.read_some_now(asio::buffer(buffer), ec) == 0);
  CHECK(ec == asio::error::would_block);
  s.feed("ab");
  CHECK(s.read_some_now(asio::buffer(buffer), ec) == 2);
  CHECK(!ec);
  s.feed_end();
  CHECK(s.read_some_now(asio::buffer(buffer), ec) == 0);
  CHECK(ec == asio::error::eof);
}

TEST_CASE("memory_stream: the n-th operation and every one after it fail") {
  asio::io_context io;
  memory_stream s{io.get_executor()};
  s.feed("abcdef");
  s.set_read_limit(1);
  s.fail_from(3, asio::error::connection_reset);
  read_all reader;
  asio::co_spawn(io, reader(s), asio::detached);
  io.run();
  CHECK(joined(reader.pieces) == "ab");
  CHECK(reader.end == asio::error::connection_reset);
  std::error_code write_ec;
  s.async_write({asio::buffer(std::string_view{"z"}), asio::const_buffer{}},
                [&](std::error_code e, std::size_t) { write_ec = e; });
  io.restart();
  io.run();
  CHECK(write_ec == asio::error::connection_reset);
  CHECK(s.written().empty());
}

TEST_CASE("memory_stream: cancel aborts what is pending; close ends the stream for both ends") {
  asio::io_context io;
  auto [a, b] = memory_stream::make_pair(io.get_executor());
  char buffer[8];
  std::error_code first;
  a.async_read_some(asio::buffer(buffer), [&](std::error_code e, std::size_t) { first = e; });
  asio::post(io, [&] { a.cancel(); });
  io.run();
  CHECK(first == asio::error::operation_aborted);
  CHECK(a.is_open());

  std::error_code pending, peer_end;
  a.async_read_some(asio::buffer(buffer), [&](std::error_code e, std::size_t) { pending = e; });
  b.async_read_some(asio::buffer(buffer), [&](std::error_code e, std::size_t) { peer_end = e; });
  asio::post(io, [&] { a.close(); });
  io.restart();
  io.run();
  CHECK(pending == asio::error::operation_aborted);
  CHECK(peer_end == asio::error::eof);
  CHECK_FALSE(a.is_open());
  std::error_code write_ec;
  b.async_write({asio::buffer(std::string_view{"x"}), asio::const_buffer{}},
                [&](std::error_code e, std::size_t) { write_ec = e; });
  io.restart();
  io.run();
  CHECK(write_ec == asio::error::broken_pipe);
}

TEST_CASE("memory_stream: two ends carry bytes both ways; shutdown_send ends one direction") {
  asio::io_context io;
  auto [client, server] = memory_stream::make_pair(io.get_executor());
  read_all at_server, at_client;
  asio::co_spawn(io, at_server(server), asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await client.async_write(
            {asio::buffer(std::string_view{"ping "}), asio::buffer(std::string_view{"pong"})},
            use_tuple);
        std::error_code ec;
        client.shutdown_send(ec);
        co_await server.async_write({asio::buffer(std::string_view{"reply"}), asio::const_buffer{}},
                                    use_tuple);
        server.shutdown_send(ec);
      },
      asio::detached);
  asio::co_spawn(io, at_client(client), asio::detached);
  io.run();
  CHECK(joined(at_server.pieces) == "ping pong");
  CHECK(at_server.end == asio::error::eof);
  CHECK(joined(at_client.pieces) == "reply");  // the client still reads after its shutdown
  CHECK(at_client.end == asio::error::eof);
  CHECK(client.send_shut());
}

TEST_CASE("memory_stream: the reuse probe") {
  asio::io_context io;
  memory_stream s{io.get_executor()};
  CHECK(s.reusable());
  SUBCASE("bytes nobody asked for") {
    s.feed("HTTP/1.1 408 Request Timeout\r\n");
    CHECK_FALSE(s.reusable());
  }
  SUBCASE("the peer closed") {
    s.feed_end();
    CHECK_FALSE(s.reusable());
  }
  SUBCASE("closed here") {
    s.close();
    CHECK_FALSE(s.reusable());
  }
}
