#include "gantry/config/policy_registry.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "config/config_test_support.hpp"
#include "gantry/config/load.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/runner.hpp"

using config_test::problems;
using gantry::config::load_string;
using gantry::config::node;
using gantry::config::policy_context;
using gantry::testing::exchange_builder;

namespace {

// The policy a host writes: answers 400 unless the request carries a header.
struct require_header {
  std::string name;
  gantry::policy::verdict on_request_head(gantry::policy::exchange& ex) const {
    if (ex.request.fields.contains(name)) return gantry::policy::verdict::continue_;
    return ex.respond(gantry::http::status::bad_request, "missing " + name + "\n");
  }
};

gantry::config::load_options with_require_header() {
  gantry::config::load_options options;
  options.policies.add("require-header", [](const node& n, const policy_context&) {
    require_header p;
    n.expect_map({"name"});
    n.required("name").read(p.name);
    return gantry::policy::chain{}.add(std::move(p));
  });
  return options;
}

// The chain of the policy named `name` in `doc`.
const gantry::policy::chain& chain_of(const gantry::config::document& doc, std::string_view name) {
  for (const auto& p : doc.gateway.policies)
    if (p.name == name) return p.chain;
  throw std::logic_error("no policy " + std::string{name});
}

}  // namespace

TEST_CASE("config policy_registry: the built-in types") {
  auto registry = gantry::config::policy_registry::builtin();
  CHECK(registry.types() ==
        std::vector<std::string_view>{"direct-response", "headers", "request-id"});
  CHECK(registry.find("request-id") != nullptr);
  CHECK(registry.find("nope") == nullptr);
  CHECK(gantry::config::policy_registry{}.types().empty());
  CHECK_THROWS_AS(
      registry.add("", [](const node&, const policy_context&) { return gantry::policy::chain{}; }),
      std::invalid_argument);
}

TEST_CASE("config policy_registry: request-id, headers and direct-response from YAML") {
  auto doc = load_string(R"(
policies:
  - name: ids
    type: request-id
    config: {header: X-Correlation-Id, trace_context: false, echo: true}
  - name: edits
    type: headers
    config:
      request:
        remove: [X-Internal]
        rename: {X-Old: X-New}
        set: {X-User: "{id}"}
      response:
        add:
          - {name: Via, value: gantry}
          - {name: Via, value: again}
  - name: mock
    type: direct-response
    config:
      status: 418
      headers: {Content-Type: text/plain}
      body: "short and stout\n"
  - name: edge
    chain:
      - {type: request-id}
      - {type: headers, config: {response: {set: {Server: gantry}}}}
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}]
)",
                         "t.yaml");
  REQUIRE(doc.gateway.policies.size() == 4);

  {
    auto ex = exchange_builder{}.header("X-Correlation-Id", "abc").build();
    auto r = gantry::testing::run(chain_of(doc, "ids"), ex);
    CHECK(r.upstream_request.fields.get("X-Correlation-Id") == "abc");
    CHECK_FALSE(r.upstream_request.fields.contains("traceparent"));
    CHECK(r.response.fields.get("X-Correlation-Id") == "abc");
  }
  {
    auto ex =
        exchange_builder{}.header("X-Internal", "1").header("X-Old", "v").param("id", "7").build();
    auto r = gantry::testing::run(chain_of(doc, "edits"), ex);
    CHECK_FALSE(r.upstream_request.fields.contains("X-Internal"));
    CHECK(r.upstream_request.fields.get("X-New") == "v");
    CHECK(r.upstream_request.fields.get("X-User") == "7");
    CHECK(r.response.fields.count("Via") == 2);
  }
  {
    auto ex = exchange_builder{}.build();
    auto r = gantry::testing::run(chain_of(doc, "mock"), ex);
    CHECK(r.local);
    CHECK(r.response.status == gantry::http::status{418});
    CHECK(r.response.fields.get("Content-Type") == "text/plain");
    CHECK(r.body == "short and stout\n");
  }
  {
    CHECK(chain_of(doc, "edge").size() == 2);
    auto ex = exchange_builder{}.build();
    auto r = gantry::testing::run(chain_of(doc, "edge"), ex);
    CHECK(r.response.fields.get("Server") == "gantry");
    CHECK(r.response.fields.contains("X-Request-Id"));
  }
}

TEST_CASE("config policy_registry: a host's own policy type") {
  const auto options = with_require_header();
  auto doc = load_string(R"(
policies:
  - name: needs-key
    type: require-header
    config: {name: X-Api-Key}
routes:
  - match: {path: {prefix: /}}
    direct: {status: 200}
    policies: [needs-key]
)",
                         "t.yaml", options);
  REQUIRE(doc.gateway.policies.size() == 1);
  CHECK(doc.gateway.routes[0].policies == std::vector<std::string>{"needs-key"});
  auto without = exchange_builder{}.build();
  CHECK(gantry::testing::run(chain_of(doc, "needs-key"), without).response.status ==
        gantry::http::status::bad_request);
  auto with = exchange_builder{}.header("X-Api-Key", "k").build();
  CHECK(gantry::testing::run(chain_of(doc, "needs-key"), with).forwarded);

  // Its problems are reported like a built-in type's.
  CHECK(problems(R"(
policies:
  - name: needs-key
    type: require-header
    config: {nam: X-Api-Key}
)",
                 options) ==
        "t.yaml:5:13: policies[0].config.name: required field is missing\n"
        "t.yaml:5:14: policies[0].config.nam: unknown field 'nam' (did you mean 'name'?)");

  // Without the registration, the type is unknown.
  CHECK(problems("policies: [{name: k, type: require-header}]") ==
        "t.yaml:1:28: policies[0].type: unknown policy type 'require-header'; the types are "
        "direct-response, headers and request-id");
  CHECK(problems("policies: [{name: k, type: request_id}]") ==
        "t.yaml:1:28: policies[0].type: unknown policy type 'request_id' (did you mean "
        "'request-id'?)");
}

TEST_CASE(
    "config policy_registry: what a factory throws is located; after a reported problem "
    "it is dropped") {
  gantry::config::load_options options;
  options.policies.add("strict", [](const node& n, const policy_context& context) {
    n.expect_map({"level"});
    int level = 0;
    n["level"].read(level);
    if (context.name() == "whole") throw std::invalid_argument("no policy may be called whole");
    if (level != 3) throw std::invalid_argument("strict policy: level: must be 3; other: odd");
    return gantry::policy::chain{};
  });
  options.policies.add("crashy", [](const node&, const policy_context&) -> gantry::policy::chain {
    throw std::runtime_error("something broke");
  });
  CHECK(problems(R"(
policies:
  - name: a
    type: strict
    config: {level: 2}
  - name: b
    type: strict
    config: {level: two}
  - name: whole
    type: strict
    config: {level: 3}
  - name: c
    type: crashy
)",
                 options) ==
        "t.yaml:5:13: policies[0].config.other: odd\n"
        "t.yaml:5:21: policies[0].config.level: must be 3\n"
        "t.yaml:8:21: policies[1].config.level: expected an integer, got 'two'\n"
        "t.yaml:11:13: policies[2].config: no policy may be called whole\n"
        "t.yaml:12:5: policies[3].config: something broke");
}

TEST_CASE("config policy_registry: policy_context resolves files against the base directory") {
  std::string resolved, base;
  gantry::config::load_options options;
  options.base_directory = "/etc/gantry";
  options.policies.add("files", [&](const node&, const policy_context& context) {
    resolved = context.resolve("mocks/a.json");
    base = context.base_directory().string();
    CHECK(context.resolve("/abs/b.json") == "/abs/b.json");
    CHECK(context.name() == "f");
    CHECK(&context.options() == &options);
    return gantry::policy::chain{};
  });
  CHECK(problems("policies: [{name: f, type: files}]\nroutes: [{direct: {}}]", options) == "");
  CHECK(resolved == "/etc/gantry/mocks/a.json");
  CHECK(base == "/etc/gantry");
}
