#include "gantry/net/address.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "gantry/net/listener.hpp"
#include "gantry/net/reuse_port.hpp"

using gantry::net::resolve_one;

TEST_CASE("addresses parse from HOST:PORT forms") {
  CHECK(resolve_one("127.0.0.1:8080") ==
        asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 8080});
  CHECK(resolve_one("[::1]:443").address() == asio::ip::make_address("::1"));
  CHECK(resolve_one(":80").address() == asio::ip::make_address("0.0.0.0"));
  CHECK(resolve_one("localhost:1").address().is_loopback());
  CHECK(resolve_one("127.0.0.1:0000080").port() == 80);
}

TEST_CASE("bad addresses are rejected with the text in the message") {
  CHECK_THROWS_WITH_AS(resolve_one("127.0.0.1"), doctest::Contains("'127.0.0.1'"),
                       std::invalid_argument);
  CHECK_THROWS_AS(resolve_one("127.0.0.1:http"), std::invalid_argument);
  CHECK_THROWS_AS(resolve_one("127.0.0.1:70000"), std::invalid_argument);
  // Too many digits for any integer type: still the documented exception.
  CHECK_THROWS_AS(resolve_one("127.0.0.1:99999999999999999999999"), std::invalid_argument);
  CHECK_THROWS_AS(resolve_one("no-such-host.invalid:80"), std::invalid_argument);
}

TEST_CASE("SO_REUSEPORT lets two listeners share one port") {
  asio::io_context io;
  auto first = gantry::net::make_listener(io.get_executor(), resolve_one("127.0.0.1:0"));
  auto port = first.local_endpoint().port();
  auto second = gantry::net::make_listener(io.get_executor(), first.local_endpoint());
  CHECK(second.local_endpoint().port() == port);
  gantry::net::reuse_port option;
  second.get_option(option);
  CHECK(option.enabled());

  SUBCASE("without it, the second bind fails and names the address") {
    CHECK_THROWS_WITH_AS(gantry::net::make_listener(io.get_executor(), first.local_endpoint(),
                                                    {.reuse_port = false}),
                         doctest::Contains(("127.0.0.1:" + std::to_string(port)).c_str()),
                         std::system_error);
  }
}
