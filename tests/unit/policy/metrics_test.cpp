#include "gantry/policy/metrics.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "clock_steps.hpp"
#include "common/prometheus_text.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/policy/static_chain.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/fake_clock.hpp"
#include "gantry/testing/runner.hpp"

using gantry::http::status;
using gantry::policy::metrics;
using gantry::policy::metrics_config;
using gantry::policy::metrics_registry;
using gantry::testing::exchange_builder;
using gantry::testing::fake_clock;
using namespace std::chrono_literals;

namespace {

using prometheus_text::labels;
using prometheus_text::parse_checked;
using prometheus_text::value_of;

}  // namespace

TEST_CASE("policy metrics: counts and histograms after a chain ran several exchanges") {
  auto registry = std::make_shared<metrics_registry>(2);
  fake_clock clock;
  // Each exchange gets its own steps: how long the upstream and the rest take.
  auto run = [&](std::chrono::microseconds to_head, std::chrono::microseconds to_end,
                 std::string_view route, std::string_view cluster, status answer,
                 std::uint32_t worker) {
    gantry::policy::chain chain;
    chain.add(clock_kit::clock_steps{&clock, to_head, to_end})
        .add(metrics_config{.registry = registry});
    auto ex = exchange_builder{}.clock(clock).build();
    ex->route_name = route;
    ex->cluster = cluster;
    ex->worker = worker;
    ex->request_bytes = 100;
    ex->response_bytes = 1000;
    gantry::testing::run(chain, ex, {.status = answer, .headers = {}, .body = {}});
  };
  run(2ms, 1ms, "users", "users-v2", status::ok, 0);             // 3 ms, upstream 2 ms
  run(4ms, 20ms, "users", "users-v2", status::ok, 1);            // 24 ms, upstream 4 ms
  run(300ms, 0ms, "users", "users-v2", status::bad_gateway, 0);  // 300 ms, upstream 300 ms
  run(1ms, 1ms, "orders", "orders", status::not_found, 3);       // worker 3: shard 1

  auto e = parse_checked(registry->render());
  const labels users = {{"route", "users"}, {"cluster", "users-v2"}};
  const labels orders = {{"route", "orders"}, {"cluster", "orders"}};
  CHECK(value_of(e, "gantry_requests_total",
                 {{"route", "users"}, {"cluster", "users-v2"}, {"status_class", "2xx"}}) == 2);
  CHECK(value_of(e, "gantry_requests_total",
                 {{"route", "users"}, {"cluster", "users-v2"}, {"status_class", "5xx"}}) == 1);
  CHECK(value_of(e, "gantry_requests_total",
                 {{"route", "orders"}, {"cluster", "orders"}, {"status_class", "4xx"}}) == 1);

  auto bucket = [&](std::string_view name, const labels& l, std::string le) {
    labels with = l;
    with["le"] = std::move(le);
    return value_of(e, name, with);
  };
  CHECK(bucket("gantry_request_duration_seconds_bucket", users, "0.005") == 1);
  CHECK(bucket("gantry_request_duration_seconds_bucket", users, "0.025") == 2);
  CHECK(bucket("gantry_request_duration_seconds_bucket", users, "0.25") == 2);
  CHECK(bucket("gantry_request_duration_seconds_bucket", users, "0.5") == 3);
  CHECK(bucket("gantry_request_duration_seconds_bucket", users, "+Inf") == 3);
  CHECK(value_of(e, "gantry_request_duration_seconds_sum", users) == doctest::Approx(0.327));
  CHECK(value_of(e, "gantry_request_duration_seconds_count", users) == 3);
  CHECK(bucket("gantry_upstream_duration_seconds_bucket", users, "0.005") == 2);
  CHECK(bucket("gantry_upstream_duration_seconds_bucket", users, "0.5") == 3);
  CHECK(value_of(e, "gantry_upstream_duration_seconds_sum", users) == doctest::Approx(0.306));
  CHECK(value_of(e, "gantry_request_bytes_total", users) == 300);
  CHECK(value_of(e, "gantry_response_bytes_total", users) == 3000);
  CHECK(value_of(e, "gantry_request_duration_seconds_count", orders) == 1);
}

TEST_CASE("policy metrics: a local response counts, with no upstream time") {
  auto registry = std::make_shared<metrics_registry>();
  fake_clock clock;
  gantry::policy::static_chain<clock_kit::clock_steps, metrics, gantry::policy::direct_response> c{
      clock_kit::clock_steps{&clock, 1ms, 1ms}, metrics_config{.registry = registry},
      gantry::policy::direct_response_config{.status = status::not_found}};
  for (int i = 0; i < 3; ++i) {
    auto ex = exchange_builder{}.clock(clock).build();
    ex->route_name = "missing";
    auto r = gantry::testing::run(c, ex);
    CHECK(r.local);
  }
  auto e = parse_checked(registry->render());
  const labels l = {{"route", "missing"}, {"cluster", ""}};
  CHECK(value_of(e, "gantry_requests_total",
                 {{"route", "missing"}, {"cluster", ""}, {"status_class", "4xx"}}) == 3);
  CHECK(value_of(e, "gantry_request_duration_seconds_sum", l) == doctest::Approx(0.006));
  CHECK_FALSE(e.value("gantry_upstream_duration_seconds_count", l));
}

TEST_CASE("policy metrics: the registry outlives the chain, and is required") {
  auto registry = std::make_shared<metrics_registry>();
  for (int reload = 0; reload < 3; ++reload) {
    gantry::policy::chain c;  // a reload builds a new chain around the same registry
    c.add(metrics_config{.registry = registry});
    auto ex = exchange_builder{}.build();
    ex->route_name = "r";
    gantry::testing::run(c, ex);
  }
  auto e = parse_checked(registry->render());
  CHECK(value_of(e, "gantry_requests_total",
                 {{"route", "r"}, {"cluster", ""}, {"status_class", "2xx"}}) == 3);
  CHECK_THROWS_WITH_AS(metrics(metrics_config{}), doctest::Contains("registry"),
                       std::invalid_argument);
}
