// An upstream connection lent to an exchange goes back to the pool only when released clean.
#include "gantry/upstream/lease.hpp"

#include <doctest/doctest.h>

#include <asio/io_context.hpp>

#include <stdexcept>

using gantry::upstream::lease;
using gantry::upstream::pool;

namespace {

// An open (unconnected) socket is enough for the pool's bookkeeping.
lease lend(pool& p) {
  auto conn = p.make_connection(0);
  conn->stream.socket().open(asio::ip::tcp::v4());
  return lease{p, std::move(conn)};
}

}  // namespace

TEST_CASE("a lease released clean goes back to the pool; the lease is empty afterwards") {
  asio::io_context io;
  pool p{io.get_executor(), 1};
  lease conn = lend(p);
  REQUIRE(conn);
  conn.release_clean(pool::clock::now());
  CHECK_FALSE(conn);
  CHECK(p.idle_count(0) == 1);
}

TEST_CASE("a lease dropped any other way closes its connection") {
  asio::io_context io;
  pool p{io.get_executor(), 1};
  SUBCASE("destroyed") {
    { lease conn = lend(p); }
  }
  SUBCASE("reset") {
    lease conn = lend(p);
    conn.reset();
    CHECK_FALSE(conn);
  }
  SUBCASE("replaced by another") {
    lease conn = lend(p);
    conn = lend(p);
    CHECK(conn);
    conn.release_clean(pool::clock::now());
    CHECK(p.idle_count(0) == 1);  // the replacement, not the first
    return;
  }
  SUBCASE("left by an exception") {
    try {
      lease conn = lend(p);
      throw std::runtime_error("exchange failed");
    } catch (const std::runtime_error&) {
    }
  }
  CHECK(p.idle_count(0) == 0);
}

TEST_CASE("an empty lease does nothing") {
  asio::io_context io;
  pool p{io.get_executor(), 1};
  lease none{p, nullptr};
  CHECK_FALSE(none);
  none.release_clean(pool::clock::now());
  none.reset();
  lease defaulted;
  CHECK_FALSE(defaulted);
  CHECK(p.idle_count(0) == 0);
}
