// Every example configuration in examples/config loads, so none of them rots.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <variant>

#include "config/config_test_paths.hpp"
#include "config/config_test_support.hpp"
#include "gantry/config/load.hpp"
#include "gantry/gateway/gateway.hpp"
#include "gantry/policy/metrics_registry.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace {

const std::filesystem::path examples{GANTRY_EXAMPLES_CONFIG_DIR};

// What a program that serves metrics passes to every load.
gantry::config::load_options options() {
  gantry::config::load_options o;
  o.metrics = std::make_shared<gantry::policy::metrics_registry>();
  return o;
}

gantry::config::document load(std::string_view name) {
  try {
    return gantry::config::load_file(examples / name, options());
  } catch (const gantry::config::error& e) {
    FAIL(e.what());
    throw;
  }
}

}  // namespace

TEST_CASE("config examples: every file in examples/config loads") {
  // A copy, beside throwaway certificates for the examples that serve TLS.
  gantry::testing::temp_dir copy{"examples"};
  gantry::testing::copy_examples_with_tls_files(examples, copy.path());
  std::set<std::string> seen;
  for (const auto& entry : std::filesystem::directory_iterator{copy.path()}) {
    if (entry.path().extension() != ".yaml") continue;
    CAPTURE(entry.path().string());
    seen.insert(entry.path().filename().string());
    gantry::config::document doc;
    REQUIRE_NOTHROW(doc = gantry::config::load_file(entry.path(), options()));
    // What the loader accepts, the gateway compiles into a snapshot.
    gantry::gateway gw{doc.options};
    CHECK_NOTHROW(gw.reload(doc.gateway));
  }
  // The ones the tests below look into are among them.
  CHECK(seen.count("minimal.yaml") == 1);
  CHECK(seen.count("canary.yaml") == 1);
  CHECK(seen.count("observability.yaml") == 1);
  CHECK(seen.count("listeners.yaml") == 1);
  CHECK(seen.count("tls.yaml") == 1);
}

TEST_CASE("config examples: minimal proxy") {
  auto doc = load("minimal.yaml");
  CHECK(config_test::addresses(doc) == std::vector<std::string>{"127.0.0.1:8080"});
  REQUIRE(doc.gateway.routes.size() == 1);
  CHECK(std::get<gantry::route::proxy>(doc.gateway.routes[0].action).cluster == "backend");
}

TEST_CASE("config examples: canary split with a sticky cookie") {
  auto doc = load("canary.yaml");
  REQUIRE(doc.gateway.routes.size() == 2);
  const auto& split = std::get<gantry::route::weighted_split>(doc.gateway.routes[1].action);
  REQUIRE(split.clusters.size() == 2);
  CHECK(split.clusters[1].cluster == "shop-v2");
  CHECK(split.clusters[1].weight == 10);
  REQUIRE(split.sticky);
  CHECK(split.sticky->from == gantry::route::sticky_key::source::cookie);
  CHECK(split.sticky->name == "session");
}

TEST_CASE("config examples: observability policies") {
  auto doc = load("observability.yaml");
  CHECK(doc.admin_listen == "127.0.0.1:9901");
  CHECK(doc.gateway.listener_policies ==
        std::vector<std::string>{"ids", "access-log", "metrics", "server-header"});
  CHECK(doc.gateway.policies.size() == 5);
  // The health check's body comes from health.json, next to the file.
  const auto& health = std::get<gantry::route::direct_response>(doc.gateway.routes[1].action);
  CHECK(health.body == "{\"status\":\"ok\"}\n");
}

TEST_CASE("config examples: a named listener beside the public one") {
  auto doc = load("listeners.yaml");
  CHECK(config_test::addresses(doc, "internal") == std::vector<std::string>{"127.0.0.1:9000"});
  REQUIRE(doc.listen.size() == 2);
  REQUIRE(doc.listen[1].options.client);
  CHECK(doc.listen[1].options.client->request_limits.max_body_size == 64 * 1024);
  REQUIRE(doc.gateway.listeners.size() == 1);
  CHECK(doc.gateway.listeners[0].name == "internal");
  CHECK(doc.gateway.listeners[0].routes.size() == 2);
  CHECK(doc.gateway.listener_policies == std::vector<std::string>{"ids"});
}

TEST_CASE("config examples: the README's example loads") {
  std::ifstream in{examples.parent_path().parent_path() / "README.md"};
  REQUIRE(in);
  const std::string readme{std::istreambuf_iterator<char>{in}, {}};
  const auto section = readme.find("## Configuration files");
  REQUIRE(section != std::string::npos);
  const auto start = readme.find("```yaml\n", section);
  REQUIRE(start != std::string::npos);
  const auto end = readme.find("```", start + 8);
  REQUIRE(end != std::string::npos);
  auto doc = gantry::config::load_string(readme.substr(start + 8, end - start - 8), "README.md");
  CHECK(doc.gateway.routes.size() == 1);
  CHECK(doc.gateway.listener_policies == std::vector<std::string>{"ids"});
}

TEST_CASE("config examples: the README's policy timing example loads and times one in 64") {
  std::ifstream in{examples.parent_path().parent_path() / "README.md"};
  REQUIRE(in);
  const std::string readme{std::istreambuf_iterator<char>{in}, {}};
  const auto section = readme.find("## Time per policy");
  REQUIRE(section != std::string::npos);
  const auto start = readme.find("```yaml\n", section);
  REQUIRE(start != std::string::npos);
  const auto end = readme.find("```", start + 8);
  REQUIRE(end != std::string::npos);
  gantry::config::load_options options;
  options.metrics = std::make_shared<gantry::policy::metrics_registry>();
  auto doc =
      gantry::config::load_string(readme.substr(start + 8, end - start - 8) +
                                      "clusters: [{name: c, endpoints: [\"127.0.0.1:1\"]}]\n",
                                  "README.md", options);
  REQUIRE(doc.gateway.policies.size() == 2);
  CHECK(doc.gateway.policies[1].chain.timing().one_in == 64);
}
