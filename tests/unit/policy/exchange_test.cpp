#include "gantry/policy/exchange.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <utility>

#include "gantry/testing/fake_clock.hpp"

using gantry::http::status;
using gantry::policy::exchange;
using gantry::policy::response_origin;
using gantry::policy::verdict;

TEST_CASE("policy exchange: respond puts a local response in place of any other") {
  gantry::testing::fake_clock clock;
  exchange ex;
  ex.start(clock);
  CHECK(ex.origin() == response_origin::none);

  ex.response.status = status::ok;
  ex.response.fields.add("Server", "upstream");
  ex.accept_upstream_response();
  CHECK(ex.origin() == response_origin::upstream);
  CHECK(ex.timings.response_head == clock.now());

  clock.advance(std::chrono::milliseconds{3});
  CHECK(ex.respond(status::unauthorized, "who are you?\n", "text/plain") == verdict::respond);
  CHECK(ex.has_local_response());
  CHECK(ex.response.status == status::unauthorized);
  CHECK(ex.response.fields.size() == 1);
  CHECK(ex.response.fields.get("Content-Type") == "text/plain");
  CHECK(ex.local_body() == "who are you?\n");
  CHECK(ex.timings.response_head + std::chrono::milliseconds{3} == clock.now());  // the first

  SUBCASE("the body may be built in place, or come from the head being replaced") {
    ex.local_body().append("more");
    CHECK(std::as_const(ex).local_body() == "who are you?\nmore");
    ex.response.fields.add("X-Body", "from the head");
    ex.respond(status::bad_request, *ex.response.fields.get("X-Body"));
    CHECK(ex.local_body() == "from the head");
    CHECK(ex.response.fields.empty());
  }
  SUBCASE("reset clears everything for the next exchange, keeping the clock") {
    ex.consumer = "acme";
    ex.request.target = "/x";
    ex.reset();
    CHECK(ex.origin() == response_origin::none);
    CHECK(ex.local_body().empty());
    CHECK(ex.consumer.empty());
    CHECK(ex.request.target.empty());
    CHECK(ex.response.fields.empty());
    CHECK(ex.timings.start == gantry::policy::clock::time_point{});
    CHECK(&ex.clock() == &clock);
  }
}

TEST_CASE("policy exchange: route params are looked up by name") {
  const gantry::policy::route_param params[] = {{"org", "acme"}, {"id", "7"}};
  exchange ex;
  ex.params = params;
  CHECK(ex.param("org") == "acme");
  CHECK(ex.param("id") == "7");
  CHECK_FALSE(ex.param("ID").has_value());
}
