// A route written in YAML is the same route written in C++: configuration is plain data, and
// both build the same snapshot (docs/architecture.md, Principles).

#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include "gantry/config/load.hpp"
#include "gantry/route/route.hpp"

using namespace std::chrono_literals;
using gantry::http::method;
using namespace gantry::route;

namespace {

std::vector<std::pair<std::string, std::string>> fields(const gantry::http::headers& h) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : h) out.emplace_back(std::string{f.name}, std::string{f.value});
  return out;
}

void check_same_path(const path_matcher& a, const path_matcher& b) {
  REQUIRE(a.index() == b.index());
  if (auto* p = std::get_if<path_exact>(&a)) CHECK(p->path == std::get<path_exact>(b).path);
  if (auto* p = std::get_if<path_prefix>(&a)) CHECK(p->prefix == std::get<path_prefix>(b).prefix);
  if (auto* p = std::get_if<path_template>(&a))
    CHECK(p->pattern == std::get<path_template>(b).pattern);
  if (auto* p = std::get_if<path_regex>(&a)) CHECK(p->pattern == std::get<path_regex>(b).pattern);
}

void check_same_action(const route_action& a, const route_action& b) {
  REQUIRE(a.index() == b.index());
  if (auto* p = std::get_if<proxy>(&a)) CHECK(p->cluster == std::get<proxy>(b).cluster);
  if (auto* s = std::get_if<weighted_split>(&a)) {
    const auto& t = std::get<weighted_split>(b);
    REQUIRE(s->clusters.size() == t.clusters.size());
    for (std::size_t i = 0; i < s->clusters.size(); ++i) {
      CHECK(s->clusters[i].cluster == t.clusters[i].cluster);
      CHECK(s->clusters[i].weight == t.clusters[i].weight);
    }
    REQUIRE(s->sticky.has_value() == t.sticky.has_value());
    if (s->sticky) {
      CHECK(s->sticky->from == t.sticky->from);
      CHECK(s->sticky->name == t.sticky->name);
    }
  }
  if (auto* r = std::get_if<redirect>(&a)) {
    CHECK(r->status == std::get<redirect>(b).status);
    CHECK(r->location == std::get<redirect>(b).location);
  }
  if (auto* d = std::get_if<direct_response>(&a)) {
    const auto& e = std::get<direct_response>(b);
    CHECK(d->status == e.status);
    CHECK(fields(d->headers) == fields(e.headers));
    CHECK(d->body == e.body);
  }
}

// Every field of `a` equals the same field of `b`.
void check_same(const route& a, const route& b) {
  CHECK(a.name == b.name);
  CHECK(a.tags == b.tags);
  CHECK(a.match.host == b.match.host);
  CHECK(a.match.methods == b.match.methods);
  check_same_path(a.match.path, b.match.path);
  REQUIRE(a.match.headers.size() == b.match.headers.size());
  for (std::size_t i = 0; i < a.match.headers.size(); ++i) {
    CHECK(a.match.headers[i].name == b.match.headers[i].name);
    CHECK(a.match.headers[i].match == b.match.headers[i].match);
    CHECK(a.match.headers[i].value == b.match.headers[i].value);
  }
  REQUIRE(a.match.query.size() == b.match.query.size());
  for (std::size_t i = 0; i < a.match.query.size(); ++i) {
    CHECK(a.match.query[i].name == b.match.query[i].name);
    CHECK(a.match.query[i].match == b.match.query[i].match);
    CHECK(a.match.query[i].value == b.match.query[i].value);
  }
  check_same_action(a.action, b.action);
  REQUIRE(a.rewrite.has_value() == b.rewrite.has_value());
  if (a.rewrite) {
    REQUIRE(a.rewrite->index() == b.rewrite->index());
    if (auto* s = std::get_if<strip_prefix>(&*a.rewrite))
      CHECK(s->prefix == std::get<strip_prefix>(*b.rewrite).prefix);
    if (auto* t = std::get_if<template_rewrite>(&*a.rewrite))
      CHECK(t->pattern == std::get<template_rewrite>(*b.rewrite).pattern);
  }
  CHECK(a.host_rewrite == b.host_rewrite);
  CHECK(a.timeout == b.timeout);
  CHECK(a.forward_proxy_credentials == b.forward_proxy_credentials);
  CHECK(a.policies == b.policies);
}

}  // namespace

TEST_CASE("config routes: a route in YAML is the same route in C++") {
  auto doc = gantry::config::load_string(R"yaml(
clusters:
  - {name: users-v2, endpoints: ["10.0.0.7:8080"]}
  - {name: shop-v1, endpoints: ["10.0.0.8:8080"]}
  - {name: shop-v2, endpoints: ["10.0.0.9:8080"]}
policies:
  - {name: key-auth, type: request-id}
  - {name: rate-limit, type: request-id}
routes:
  - name: users
    tags: [team-accounts, public]
    match:
      host: api.example.com
      methods: [GET, HEAD]
      path: {template: "/users/{id}"}
      headers:
        - {name: X-Canary, exact: "1"}
        - {name: Authorization}
        - {name: X-Debug, present: true}
        - {name: User-Agent, regex: ".*Mobile.*"}
      query:
        - {name: version, exact: "2"}
        - {name: debug, present: true}
        - {name: trace}
    cluster: users-v2
    rewrite: {template: "/v2/users/{id}"}
    host_rewrite: users.internal
    timeout: 1500ms
    forward_proxy_credentials: true
    policies: [key-auth, rate-limit]
  - name: shop
    match:
      host: "*.shop.example.com"
      path: {prefix: /shop}
    split:
      - {cluster: shop-v1, weight: 90}
      - {cluster: shop-v2, weight: 10}
      - {cluster: shop-v2}
    sticky: {cookie: session}
    rewrite: {strip_prefix: true}
  - name: shop-by-user
    match: {path: {prefix: /cart}}
    split: [{cluster: shop-v1}, {cluster: shop-v2, weight: 3}]
    sticky: {header: X-User-Id}
    rewrite: {strip_prefix: /cart}
  - name: old-docs
    match: {methods: [GET], path: {exact: /docs}}
    redirect: {status: 308, location: "https://docs.example.com/"}
  - name: default-redirect
    match: {path: {regex: "/old/(?P<rest>.*)"}}
    redirect: {location: "/new/{rest}"}
  - match: {path: {exact: /mock}}
    direct:
      status: 201
      headers:
        - {name: Content-Type, value: application/json}
        - {name: X-Mock, value: "1"}
        - {name: X-Mock, value: "2"}
      body: '{"created":true}'
  - match: {path: {exact: /empty}}
    direct: {}
)yaml",
                                         "t.yaml");

  std::vector<route> expected;
  expected.push_back(route{
      .name = "users",
      .tags = {"team-accounts", "public"},
      .match = {.host = "api.example.com",
                .methods = {method::get, method::head},
                .path = path_template{"/users/{id}"},
                .headers = {header_matcher::exact("X-Canary", "1"),
                            header_matcher::present("Authorization"),
                            header_matcher::present("X-Debug"),
                            header_matcher::regex("User-Agent", ".*Mobile.*")},
                .query = {query_matcher::exact("version", "2"), query_matcher::present("debug"),
                          query_matcher::present("trace")}},
      .action = proxy{"users-v2"},
      .rewrite = template_rewrite{"/v2/users/{id}"},
      .host_rewrite = "users.internal",
      .timeout = 1500ms,
      .forward_proxy_credentials = true,
      .policies = {"key-auth", "rate-limit"},
  });
  expected.push_back(route{
      .name = "shop",
      .match = {.host = "*.shop.example.com", .path = path_prefix{"/shop"}},
      .action = weighted_split{.clusters = {{"shop-v1", 90}, {"shop-v2", 10}, {"shop-v2", 1}},
                               .sticky = sticky_key{.from = sticky_key::source::cookie,
                                                    .name = "session"}},
      .rewrite = strip_prefix{},
  });
  expected.push_back(route{
      .name = "shop-by-user",
      .match = {.path = path_prefix{"/cart"}},
      .action = weighted_split{.clusters = {{"shop-v1", 1}, {"shop-v2", 3}},
                               .sticky = sticky_key{.from = sticky_key::source::header,
                                                    .name = "X-User-Id"}},
      .rewrite = strip_prefix{"/cart"},
  });
  expected.push_back(route{
      .name = "old-docs",
      .match = {.methods = {method::get}, .path = path_exact{"/docs"}},
      .action =
          redirect{.status = gantry::http::status{308}, .location = "https://docs.example.com/"},
  });
  expected.push_back(route{
      .name = "default-redirect",
      .match = {.path = path_regex{"/old/(?P<rest>.*)"}},
      .action = redirect{.location = "/new/{rest}"},
  });
  direct_response mock{.status = gantry::http::status{201}, .body = R"({"created":true})"};
  mock.headers.add("Content-Type", "application/json");
  mock.headers.add("X-Mock", "1");
  mock.headers.add("X-Mock", "2");
  expected.push_back(route{.match = {.path = path_exact{"/mock"}}, .action = mock});
  expected.push_back(route{.match = {.path = path_exact{"/empty"}}, .action = direct_response{}});

  REQUIRE(doc.gateway.routes.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    check_same(doc.gateway.routes[i], expected[i]);
  }
}

TEST_CASE("config routes: a route that says nothing about matching matches everything") {
  auto doc = gantry::config::load_string(
      "clusters: [{name: c, endpoints: ['10.0.0.1:80']}]\nroutes: [{cluster: c}]", "t.yaml");
  REQUIRE(doc.gateway.routes.size() == 1);
  check_same(doc.gateway.routes[0], route{.action = proxy{"c"}});
}

TEST_CASE("config routes: forward_proxy_credentials is off unless a route says true") {
  auto doc = gantry::config::load_string(R"yaml(
clusters: [{name: c, endpoints: ['10.0.0.1:80']}]
routes:
  - {name: default, match: {path: {prefix: /a}}, cluster: c}
  - {name: off, match: {path: {prefix: /b}}, cluster: c, forward_proxy_credentials: false}
  - {name: on, match: {path: {prefix: /c}}, cluster: c, forward_proxy_credentials: true}
)yaml",
                                         "t.yaml");
  REQUIRE(doc.gateway.routes.size() == 3);
  CHECK_FALSE(doc.gateway.routes[0].forward_proxy_credentials);
  CHECK_FALSE(doc.gateway.routes[1].forward_proxy_credentials);
  CHECK(doc.gateway.routes[2].forward_proxy_credentials);
}
