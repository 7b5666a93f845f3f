#include "gantry/config/policy_registry.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "config/config_test_support.hpp"
#include "gantry/config/load.hpp"
#include "gantry/policy/metrics_registry.hpp"
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
  CHECK(registry.types() == std::vector<std::string_view>{"access-log", "direct-response",
                                                          "headers", "metrics", "metrics-endpoint",
                                                          "request-id"});
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
        "access-log, direct-response, headers, metrics, metrics-endpoint and request-id");
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

TEST_CASE("config policy_registry: metrics count into the registry the program passes") {
  gantry::config::load_options options;
  options.metrics = std::make_shared<gantry::policy::metrics_registry>();
  const std::string yaml = R"(
policies:
  - {name: metrics, type: metrics}
  - {name: prometheus, type: metrics-endpoint}
listener_policies: [metrics]
routes:
  - {name: metrics, match: {path: {exact: /metrics}}, direct: {}, policies: [prometheus]}
)";
  auto doc = load_string(yaml, "t.yaml", options);
  auto ex = exchange_builder{}.build();
  ex.get().route_name = "users";
  gantry::testing::run(chain_of(doc, "metrics"), ex);
  const std::string counted = options.metrics->render();
  CHECK(counted.find("gantry_requests_total{route=\"users\"") != std::string::npos);

  // The endpoint serves the same registry; a document loaded again (a reload) shares it.
  auto reloaded = load_string(yaml, "t.yaml", options);
  auto scrape = exchange_builder{}.build();
  auto r = gantry::testing::run(chain_of(reloaded, "prometheus"), scrape);
  CHECK(r.local);
  CHECK(r.body == counted);

  // Without a registry, both are refused where they are declared.
  CHECK(problems(yaml) ==
        "t.yaml:3:5: policies[0].config: needs a metrics registry: the program loading the "
        "configuration passes one in load_options::metrics\n"
        "t.yaml:4:5: policies[1].config: needs a metrics registry: the program loading the "
        "configuration passes one in load_options::metrics");
  CHECK(problems("policies: [{name: m, type: metrics-endpoint, config: {shards: 4}}]", options) ==
        "t.yaml:1:55: policies[0].config.shards: unknown field 'shards'; there are no fields "
        "here");
  CHECK(problems("policies: [{name: m, type: metrics, config: {shards: 4}}]", options) ==
        "t.yaml:1:46: policies[0].config.shards: unknown field 'shards'; the fields here are "
        "policy_time_sampling");
}

TEST_CASE(
    "config policy_registry: metrics time the policies, one exchange in policy_time_sampling") {
  gantry::config::load_options options;
  options.metrics = std::make_shared<gantry::policy::metrics_registry>();
  auto doc = load_string(R"(
policies:
  - {name: ids, type: request-id}
  - {name: metrics, type: metrics, config: {policy_time_sampling: 8}}
  - {name: quiet, type: metrics, config: {policy_time_sampling: 0}}
  - {name: default, type: metrics}
listener_policies: [ids, metrics]
clusters: [{name: c, endpoints: ["127.0.0.1:1"]}]
)",
                         "t.yaml", options);
  CHECK(chain_of(doc, "metrics").timing().one_in == 8);
  CHECK_FALSE(chain_of(doc, "quiet").timing().on());
  CHECK(chain_of(doc, "default").timing().one_in == 64);

  CHECK(problems("policies: [{name: m, type: metrics, config: {policy_time_sampling: -1}}]",
                 options) ==
        "t.yaml:1:68: policies[0].config.policy_time_sampling: must be from 0 to 4294967295, "
        "got -1");
  CHECK(problems("policies: [{name: m, type: metrics, config: {policy_time_sampling: often}}]",
                 options) ==
        "t.yaml:1:68: policies[0].config.policy_time_sampling: expected an integer, got 'often'");
}

TEST_CASE("config policy_registry: access-log writes to a file relative to the configuration") {
  const auto dir = std::filesystem::temp_directory_path() / "gantry_config_access_log_test";
  std::filesystem::create_directories(dir);
  gantry::config::load_options options;
  options.base_directory = dir;
  {
    auto doc = load_string(R"(
policies:
  - name: log
    type: access-log
    config: {destination: access.log, fields: [method, path, status], flush_interval: 5ms}
routes: [{direct: {}}]
)",
                           "t.yaml", options);
    auto ex = exchange_builder{}.target("/users/7").build();
    gantry::testing::run(chain_of(doc, "log"), ex);
  }  // the last copy of the policy writes what is left
  std::ifstream in{dir / "access.log"};
  std::string line;
  std::getline(in, line);
  CHECK(line == R"({"method":"GET","path":"/users/7","status":200})");
  std::filesystem::remove_all(dir);

  CHECK(problems(R"(
policies:
  - name: log
    type: access-log
    config: {fields: [method, colour], flush_bytes: 0, flush_interval: 1 s}
)",
                 options) ==
        "t.yaml:5:72: policies[0].config.flush_interval: bad duration '1 s': write whole numbers "
        "with units ms, s, m or h, e.g. 250ms, 10s, 1m30s");
  CHECK(problems(R"(
policies:
  - name: log
    type: access-log
    config: {fields: [method, colour], flush_bytes: 0}
)",
                 options) ==
        "t.yaml:5:22: policies[0].config.fields: unknown field names 'colour' (known: time, "
        "method, path, route, cluster, endpoint, status, bytes_in, bytes_out, duration_ms, "
        "upstream_ms, request_id, consumer, client, scheme, error)\n"
        "t.yaml:5:53: policies[0].config.flush_bytes: must be at least 1");
}
