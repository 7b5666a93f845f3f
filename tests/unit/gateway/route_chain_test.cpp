// The chain and answer the gateway assembles for a route, as chain_of_route and
// chain_for_request hand them out (for gantry-bench and hosts measuring their routes).
#include "gantry/gateway/route_chain.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "gantry/policy/chain.hpp"

namespace {

struct noop {
  gantry::policy::verdict on_request_head(gantry::policy::exchange&) const {
    return gantry::policy::verdict::continue_;
  }
};

gantry::gateway_config sample() {
  gantry::gateway_config config;
  config.clusters = {{.name = "users", .endpoints = {"127.0.0.1:9"}}};
  config.policies = {{.name = "ids", .chain = gantry::policy::chain{}.add(noop{})},
                     {.name = "auth", .chain = gantry::policy::chain{}.add(noop{})}};
  config.listener_policies = {"ids"};
  config.routes = {
      {.name = "users",
       .match = {.path = gantry::route::path_prefix{"/users"}},
       .action = gantry::route::proxy{"users"},
       .policies = {"auth"},
       .chain = gantry::policy::chain{}.add(noop{})},
      {.name = "health",
       .match = {.path = gantry::route::path_exact{"/healthz"}},
       .action =
           gantry::route::direct_response{
               .status = gantry::http::status::ok, .headers = {}, .body = "up\n"}},
      {.name = "old",
       .match = {.path = gantry::route::path_exact{"/old"}},
       .action = gantry::route::redirect{.status = gantry::http::status::moved_permanently,
                                         .location = "/new"}},
  };
  return config;
}

gantry::http::request get(std::string target) {
  gantry::http::request req;
  req.method = gantry::http::method::get;
  req.target = std::move(target);
  req.fields.add("Host", "t");
  return req;
}

}  // namespace

TEST_CASE("route chain: the listener's policies, the route's named ones, then its own") {
  const auto users = gantry::chain_of_route(sample(), "users");
  CHECK(users.route_name == "users");
  REQUIRE(users.chain.size() == 3);
  CHECK(users.chain.policy_name(0) == "ids");
  CHECK(users.chain.policy_name(1) == "auth");
  CHECK_FALSE(users.answer.has_value());  // it forwards

  const auto matched = gantry::chain_for_request(sample(), get("/users/7"));
  CHECK(matched.route_name == "users");
  CHECK(matched.chain.size() == 3);
}

TEST_CASE("route chain: what a route answers itself, and the 404 of no route") {
  const auto health = gantry::chain_of_route(sample(), "health");
  REQUIRE(health.answer.has_value());
  CHECK(health.answer->status == gantry::http::status::ok);
  CHECK(health.answer->body == "up\n");

  const auto old = gantry::chain_for_request(sample(), get("/old"));
  REQUIRE(old.answer.has_value());
  CHECK(old.answer->status == gantry::http::status::moved_permanently);
  CHECK(old.answer->headers.get("Location") == "/new");

  const auto none = gantry::chain_for_request(sample(), get("/nothing"));
  CHECK(none.route_name.empty());
  CHECK(none.chain.size() == 1);  // the listener's
  REQUIRE(none.answer.has_value());
  CHECK(none.answer->status == gantry::http::status::not_found);

  // Without routes, everything goes to the only cluster.
  gantry::gateway_config proxy_all = sample();
  proxy_all.routes.clear();
  CHECK_FALSE(gantry::chain_for_request(proxy_all, get("/x")).answer.has_value());
}

TEST_CASE("route chain: an unknown route, and a configuration that does not compile") {
  CHECK_THROWS_WITH_AS(gantry::chain_of_route(sample(), "nope"), "no route is named \"nope\"",
                       std::invalid_argument);
  gantry::gateway_config broken = sample();
  broken.listener_policies = {"missing"};
  CHECK_THROWS_AS(gantry::chain_for_request(broken, get("/users")), std::invalid_argument);
}

TEST_CASE("route chain: the routes and listener policies of a named listener") {
  gantry::gateway_config config = sample();
  config.listeners = {{.name = "admin",
                       .routes = {{.name = "users",
                                   .match = {.path = gantry::route::path_exact{"/users"}},
                                   .action = gantry::route::direct_response{.body = "admin"}}},
                       .listener_policies = {"auth"}}};
  const auto admin = gantry::chain_of_route(config, "users", "admin");
  REQUIRE(admin.chain.size() == 1);
  CHECK(admin.chain.policy_name(0) == "auth");
  REQUIRE(admin.answer.has_value());
  CHECK(admin.answer->body == "admin");
  CHECK(gantry::chain_of_route(config, "users").chain.size() == 3);  // the gateway's own

  const auto none = gantry::chain_for_request(config, get("/elsewhere"), "admin");
  REQUIRE(none.answer.has_value());
  CHECK(none.answer->status == gantry::http::status::not_found);
  CHECK_THROWS_WITH_AS(gantry::chain_of_route(config, "health", "admin"),
                       "no route is named \"health\"", std::invalid_argument);
  CHECK_THROWS_WITH_AS(gantry::chain_for_request(config, get("/"), "internal"),
                       "no listener is named \"internal\"", std::invalid_argument);
}
