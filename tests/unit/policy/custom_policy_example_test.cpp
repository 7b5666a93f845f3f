// Write your own policy: a struct with the phases it needs, used exactly like a built-in one,
// and tested with the test kit: no sockets, no gateway. (A phase that must wait, for a Redis
// call say, returns asio::awaitable<verdict> instead of verdict; nothing else changes.)

#include <doctest/doctest.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "gantry/policy/chain.hpp"
#include "gantry/policy/static_chain.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/runner.hpp"

// examples/custom_policy.cpp serves this policy; the test runs the same header.
#include "../../../examples/api_key.hpp"

namespace policy = gantry::policy;
using gantry::http::status;

// Requires an API version the service supports, and tells the client which one answered.
struct api_version {
  std::string header = "X-Api-Version";  // configuration: plain fields with defaults
  std::vector<int> supported = {1, 2};

  struct state {  // per exchange, built by the chain; never a global
    int version = 0;
  };

  policy::verdict on_request_head(policy::exchange& ex, state& s) const {
    auto value = ex.request.fields.get(header).value_or("");
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), s.version);
    if (error != std::errc{} || end != value.data() + value.size())
      return ex.respond(status::bad_request, "send " + header + "\n", "text/plain");
    if (std::find(supported.begin(), supported.end(), s.version) == supported.end())
      return ex.respond(status::not_found, "no such API version\n", "text/plain");
    return policy::verdict::continue_;
  }

  policy::verdict on_response_head(policy::exchange& ex, state& s) const {
    ex.response.fields.set("X-Api-Version-Served", std::to_string(s.version));
    return policy::verdict::continue_;
  }
};

TEST_CASE("policy example: a custom policy in a run-time and a compile-time chain") {
  policy::chain from_config;
  from_config.add(api_version{.header = "X-Version", .supported = {2}});
  const policy::static_chain<api_version> compiled{api_version{}};

  auto ok = gantry::testing::exchange_builder{}.header("X-Version", "2").build();
  auto r = gantry::testing::run(from_config, ok);
  CHECK(r.forwarded);
  CHECK(r.response.fields.get("X-Api-Version-Served") == "2");

  auto old = gantry::testing::exchange_builder{}.header("X-Api-Version", "3").build();
  CHECK(gantry::testing::run(compiled, old).response.status == status::not_found);
  auto none = gantry::testing::exchange_builder{}.build();
  CHECK(gantry::testing::run(compiled, none).response.status == status::bad_request);
}

TEST_CASE("policy example: the API-key check of examples/custom_policy.cpp") {
  policy::chain chain;
  chain.add(example::api_key{.consumers = {{"key-ada", "ada"}}});

  SUBCASE("no key, or an unknown one: 401, and nothing goes upstream") {
    auto none = gantry::testing::exchange_builder{}.build();
    auto r = gantry::testing::run(chain, none);
    CHECK(!r.forwarded);
    CHECK(r.local);
    CHECK(r.response.status == status::unauthorized);
    CHECK(r.response.fields.get("WWW-Authenticate") == "ApiKey");
    CHECK(r.body == "missing or unknown API key\n");

    auto unknown = gantry::testing::exchange_builder{}.header("X-Api-Key", "key-eve").build();
    CHECK(gantry::testing::run(chain, unknown).response.status == status::unauthorized);
  }

  SUBCASE("a known key: forwarded as its consumer, without the key") {
    auto ok = gantry::testing::exchange_builder{}.header("x-api-key", "key-ada").build();
    auto r = gantry::testing::run(chain, ok);
    CHECK(r.forwarded);
    CHECK(r.response.status == status::ok);
    CHECK(ok->consumer == "ada");
    CHECK(r.upstream_request.fields.get("X-Consumer") == "ada");
    CHECK(!r.upstream_request.fields.contains("X-Api-Key"));
  }

  SUBCASE("the field that carries the key is configuration") {
    policy::chain custom;
    custom.add(example::api_key{.header = "Api-Key", .consumers = {{"k", "lin"}}});
    auto old_field = gantry::testing::exchange_builder{}.header("X-Api-Key", "k").build();
    CHECK(gantry::testing::run(custom, old_field).response.status == status::unauthorized);
    auto new_field = gantry::testing::exchange_builder{}.header("Api-Key", "k").build();
    CHECK(gantry::testing::run(custom, new_field).forwarded);
  }
}
