#include "gantry/policy/metrics_endpoint.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>

#include "common/prometheus_text.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/metrics.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/runner.hpp"

using gantry::http::status;
using gantry::policy::metrics_config;
using gantry::policy::metrics_endpoint;
using gantry::policy::metrics_endpoint_config;
using gantry::policy::metrics_registry;
using gantry::testing::exchange_builder;

TEST_CASE("policy metrics_endpoint: serves the rendered registry as a local response") {
  auto registry = std::make_shared<metrics_registry>();
  gantry::policy::chain api;
  api.add(metrics_config{.registry = registry});
  gantry::policy::chain admin;  // /metrics on an admin listener, counted too
  admin.add(metrics_config{.registry = registry})
      .add(metrics_endpoint_config{.registry = registry});

  for (int i = 0; i < 2; ++i) {
    auto ex = exchange_builder{}.build();
    ex->route_name = "api";
    ex->cluster = "backend";
    gantry::testing::run(api, ex);
  }
  auto ex = exchange_builder{}.target("/metrics").build();
  ex->route_name = "metrics";
  auto r = gantry::testing::run(admin, ex);
  CHECK_FALSE(r.forwarded);
  CHECK(r.local);
  CHECK(r.response.status == status::ok);
  CHECK(r.response.fields.get("Content-Type") == "text/plain; version=0.0.4");
  auto e = prometheus_text::parse(r.body);
  CHECK(e.errors.empty());
  CHECK(e.value("gantry_requests_total",
                {{"route", "api"}, {"cluster", "backend"}, {"status_class", "2xx"}}) == 2);
  // Rendered before its own exchange ended: that one counts from the next scrape on.
  CHECK_FALSE(e.value("gantry_requests_total",
                      {{"route", "metrics"}, {"cluster", ""}, {"status_class", "2xx"}}));
  CHECK(registry->render().find("route=\"metrics\"") != std::string::npos);
}

TEST_CASE("policy metrics_endpoint: HEAD is answered, other methods get 405") {
  auto registry = std::make_shared<metrics_registry>();
  gantry::policy::chain c;
  c.add(metrics_endpoint_config{.registry = registry});

  auto head = exchange_builder{}.method(gantry::http::method::head).build();
  CHECK(gantry::testing::run(c, head).response.status == status::ok);

  auto post = exchange_builder{}.method(gantry::http::method::post).build();
  auto r = gantry::testing::run(c, post);
  CHECK(r.local);
  CHECK(r.response.status == status::method_not_allowed);
  CHECK(r.response.fields.get("Allow") == "GET, HEAD");
  CHECK(r.body.empty());

  CHECK_THROWS_WITH_AS(metrics_endpoint(metrics_endpoint_config{}), doctest::Contains("registry"),
                       std::invalid_argument);
}
