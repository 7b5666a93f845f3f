#include "gantry/upstream/pool.hpp"

#include <doctest/doctest.h>

#include <asio/io_context.hpp>

#include "gantry/upstream/round_robin.hpp"

using gantry::upstream::pool;
using gantry::upstream::pool_options;
using namespace std::chrono_literals;

namespace {

// An open (unconnected) socket is enough for the pool's bookkeeping.
std::unique_ptr<gantry::upstream::connection> open_connection(pool& p, std::uint32_t endpoint) {
  auto conn = p.make_connection(endpoint);
  conn->stream.socket().open(asio::ip::tcp::v4());
  return conn;
}

}  // namespace

TEST_CASE("the pool keeps clean connections per endpoint and hands back the warmest") {
  asio::io_context io;
  pool p{io.get_executor(), 2, pool_options{.max_idle_per_endpoint = 2}};
  const auto t0 = pool::clock::now();

  auto a = open_connection(p, 0);
  auto b = open_connection(p, 0);
  auto* b_ptr = b.get();
  p.release(std::move(a), true, t0);
  p.release(std::move(b), true, t0 + 1ms);
  CHECK(p.idle_count(0) == 2);
  CHECK(p.idle_count(1) == 0);

  auto taken = p.take_idle(0, t0 + 2ms);
  REQUIRE(taken);
  CHECK(taken.get() == b_ptr);
  CHECK(taken->exchanges == 1);
  CHECK(p.take_idle(1, t0 + 2ms) == nullptr);

  SUBCASE("a connection whose exchange did not end cleanly is closed, not kept") {
    p.release(std::move(taken), false, t0 + 3ms);
    CHECK(p.idle_count(0) == 1);
  }
  SUBCASE("no more than max_idle_per_endpoint are kept") {
    p.release(std::move(taken), true, t0 + 3ms);
    p.release(open_connection(p, 0), true, t0 + 3ms);
    CHECK(p.idle_count(0) == 2);
  }
}

TEST_CASE("idle connections age out, on take and on sweep") {
  asio::io_context io;
  pool p{io.get_executor(), 1, pool_options{.idle_timeout = 100ms}};
  const auto t0 = pool::clock::now();
  p.release(open_connection(p, 0), true, t0);
  p.release(open_connection(p, 0), true, t0 + 50ms);
  CHECK(p.idle_count() == 2);

  SUBCASE("sweep closes only the expired ones") {
    p.sweep(t0 + 120ms);
    CHECK(p.idle_count() == 1);
    p.sweep(t0 + 200ms);
    CHECK(p.idle_count() == 0);
  }
  SUBCASE("take skips and closes expired ones") {
    CHECK(p.take_idle(0, t0 + 500ms) == nullptr);
    CHECK(p.idle_count() == 0);
  }
}

TEST_CASE("a connection is retired after max_exchanges_per_connection") {
  asio::io_context io;
  pool p{io.get_executor(), 1, pool_options{.max_exchanges_per_connection = 3}};
  const auto now = pool::clock::now();
  auto conn = open_connection(p, 0);
  for (int i = 0; i < 2; ++i) {
    p.release(std::move(conn), true, now);
    conn = p.take_idle(0, now);
    REQUIRE(conn);
  }
  p.release(std::move(conn), true, now);  // the third exchange
  CHECK(p.idle_count() == 0);
}

TEST_CASE("round robin visits every endpoint in turn from its start offset") {
  gantry::upstream::round_robin rr{1};
  CHECK(rr.pick(3) == 1);
  CHECK(rr.pick(3) == 2);
  CHECK(rr.pick(3) == 0);
  CHECK(rr.pick(3) == 1);
  gantry::upstream::round_robin single;
  CHECK(single.pick(1) == 0);
  CHECK(single.pick(1) == 0);
}
