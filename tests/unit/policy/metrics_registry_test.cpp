#include "gantry/policy/metrics_registry.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/prometheus_text.hpp"

using gantry::policy::metrics_registry;
using gantry::policy::metrics_sample;
using namespace std::chrono_literals;

namespace {

using prometheus_text::labels;
using prometheus_text::parse_checked;
using prometheus_text::value_of;

labels with(labels l, std::string name, std::string value) {
  l[std::move(name)] = std::move(value);
  return l;
}

metrics_sample sample(std::string_view route, std::string_view cluster, std::uint16_t status,
                      std::chrono::nanoseconds duration,
                      std::optional<std::chrono::nanoseconds> upstream = std::nullopt,
                      std::uint64_t in = 0, std::uint64_t out = 0) {
  return {.route = route,
          .cluster = cluster,
          .status = status,
          .duration = duration,
          .upstream = upstream,
          .bytes_in = in,
          .bytes_out = out};
}

}  // namespace

TEST_CASE("metrics_registry: an empty registry renders its families and no samples") {
  metrics_registry r;
  auto e = parse_checked(r.render());
  CHECK(e.samples.empty());
  std::vector<std::string> families;
  for (const auto& f : e.families) families.push_back(f.name + ":" + f.type);
  CHECK(families ==
        std::vector<std::string>{
            "gantry_requests_total:counter", "gantry_request_duration_seconds:histogram",
            "gantry_upstream_duration_seconds:histogram", "gantry_request_bytes_total:counter",
            "gantry_response_bytes_total:counter", "gantry_policy_duration_seconds:histogram",
            "gantry_policy_sampled_exchanges_total:counter"});
  CHECK_THROWS_AS(metrics_registry{0}, std::invalid_argument);
}

TEST_CASE("metrics_registry: counters by status class, histograms, bytes") {
  metrics_registry r;
  r.record(0, sample("users", "users-v2", 200, 3ms, 2ms, 100, 1000));
  r.record(0, sample("users", "users-v2", 204, 5ms, 4ms, 100, 200));  // le is inclusive
  r.record(0, sample("users", "users-v2", 503, 70ms, 60ms, 50, 20));
  r.record(0, sample("users", "users-v2", 404, 12s, std::nullopt, 10, 5));  // local, > 10 s
  r.record(0, sample("users", "", 429, 1ms));                               // another label set
  r.record(0, sample("users", "users-v2", 0, 1ms));                         // no response
  r.record(0, sample("users", "users-v2", 999, 1ms));                       // out of range

  auto e = parse_checked(r.render());
  const labels users = {{"route", "users"}, {"cluster", "users-v2"}};
  CHECK(value_of(e, "gantry_requests_total", with(users, "status_class", "2xx")) == 2);
  CHECK(value_of(e, "gantry_requests_total", with(users, "status_class", "4xx")) == 1);
  CHECK(value_of(e, "gantry_requests_total", with(users, "status_class", "5xx")) == 1);
  CHECK(value_of(e, "gantry_requests_total", with(users, "status_class", "other")) == 2);
  CHECK_FALSE(e.value("gantry_requests_total", with(users, "status_class", "1xx")));
  CHECK(value_of(e, "gantry_requests_total",
                 {{"route", "users"}, {"cluster", ""}, {"status_class", "4xx"}}) == 1);

  // Durations 1, 1, 3, 5, 70 ms and 12 s, cumulative per bound.
  const std::map<std::string, double> expected = {
      {"0.005", 4}, {"0.01", 4}, {"0.025", 4}, {"0.05", 4}, {"0.1", 5}, {"0.25", 5},
      {"0.5", 5},   {"1", 5},    {"2.5", 5},   {"5", 5},    {"10", 5},  {"+Inf", 6}};
  auto buckets = e.named("gantry_request_duration_seconds_bucket");
  std::size_t users_buckets = 0;
  for (const auto& b : buckets) {
    if (b.labels.at("cluster") != "users-v2") continue;
    ++users_buckets;
    CAPTURE(b.labels.at("le"));
    CHECK(b.value == expected.at(b.labels.at("le")));
  }
  CHECK(users_buckets == expected.size());
  CHECK(value_of(e, "gantry_request_duration_seconds_count", users) == 6);
  CHECK(value_of(e, "gantry_request_duration_seconds_sum", users) ==
        doctest::Approx(12.080).epsilon(1e-12));

  // Upstream time only for the three exchanges that had one: 2, 4, 60 ms.
  CHECK(value_of(e, "gantry_upstream_duration_seconds_bucket", with(users, "le", "0.005")) == 2);
  CHECK(value_of(e, "gantry_upstream_duration_seconds_bucket", with(users, "le", "0.05")) == 2);
  CHECK(value_of(e, "gantry_upstream_duration_seconds_bucket", with(users, "le", "0.1")) == 3);
  CHECK(value_of(e, "gantry_upstream_duration_seconds_count", users) == 3);
  CHECK(value_of(e, "gantry_upstream_duration_seconds_sum", users) ==
        doctest::Approx(0.066).epsilon(1e-12));
  // The label set without upstream time has no upstream histogram.
  CHECK_FALSE(
      e.value("gantry_upstream_duration_seconds_count", {{"route", "users"}, {"cluster", ""}}));

  CHECK(value_of(e, "gantry_request_bytes_total", users) == 260);
  CHECK(value_of(e, "gantry_response_bytes_total", users) == 1225);
}

TEST_CASE("metrics_registry: the text follows the format, line by line") {
  metrics_registry r{2};
  r.record(0, sample("a", "x", 200, 1ms, 1ms, 1, 2));
  r.record(1, sample("b", "y", 500, 20ms, 10ms, 3, 4));
  const std::string text = r.render();
  auto e = parse_checked(text);
  // Every family's HELP, then TYPE, then its samples; label sets sorted.
  CHECK(text.starts_with("# HELP gantry_requests_total "));
  CHECK(text.find("gantry_requests_total{route=\"a\",cluster=\"x\",status_class=\"2xx\"} 1\n") <
        text.find("gantry_requests_total{route=\"b\",cluster=\"y\",status_class=\"5xx\"} 1\n"));
  CHECK(text.find("gantry_request_duration_seconds_bucket{route=\"a\",cluster=\"x\",le=\"0.005\"}"
                  " 1\n") != std::string::npos);
  // Each histogram: buckets in bound order, non-decreasing, +Inf equal to _count.
  for (const std::string name :
       {"gantry_request_duration_seconds", "gantry_upstream_duration_seconds"}) {
    for (const std::string route : {"a", "b"}) {
      CAPTURE(name);
      CAPTURE(route);
      double previous = -1;
      double bound = -1;
      int n = 0;
      for (const auto& b : e.named(name + "_bucket")) {
        if (b.labels.at("route") != route) continue;
        ++n;
        const double le = b.labels.at("le") == "+Inf" ? HUGE_VAL : std::stod(b.labels.at("le"));
        CHECK(le > bound);
        CHECK(b.value >= previous);
        bound = le;
        previous = b.value;
      }
      CHECK(n == 12);
      CHECK(std::isinf(bound));
      CHECK(previous == value_of(e, name + "_count",
                                 {{"route", route}, {"cluster", route == "a" ? "x" : "y"}}));
    }
  }
}

TEST_CASE("metrics_registry: label values are escaped") {
  metrics_registry r;
  const std::string route = "a\"b\\c\nd{e}=,f";
  const std::string cluster = "bad-\xff-utf8-\xc3\xa9";
  r.record(0, sample(route, cluster, 200, 1ms));
  const std::string text = r.render();
  CHECK(text.find("route=\"a\\\"b\\\\c\\nd{e}=,f\"") != std::string::npos);
  auto e = parse_checked(text);
  // Read back: the route as it was, the invalid byte as U+FFFD.
  CHECK(value_of(e, "gantry_requests_total",
                 {{"route", route},
                  {"cluster", "bad-\xef\xbf\xbd-utf8-\xc3\xa9"},
                  {"status_class", "2xx"}}) == 1);
}

TEST_CASE("metrics_registry: shards written by their own threads merge, scraped meanwhile") {
  constexpr std::size_t workers = 4;
  constexpr int per_worker = 20000;
  const std::string routes[] = {"users", "orders", "search"};
  metrics_registry r{workers};

  // The writers start once the scraper is scraping, and it scrapes until they are done, so
  // scrapes overlap the writes however the threads are scheduled.
  std::atomic<bool> scraping{false};
  std::atomic<bool> done{false};
  std::thread scraper{[&] {
    double last_total = 0;
    do {
      scraping = true;
      auto e = prometheus_text::parse(r.render());
      CHECK(e.errors.empty());
      double total = 0;
      for (const auto& s : e.named("gantry_requests_total")) total += s.value;
      CHECK(total >= last_total);  // counters only grow
      last_total = total;
    } while (!done.load());
  }};

  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      while (!scraping.load()) std::this_thread::yield();
      for (int i = 0; i < per_worker; ++i) {
        const auto& route = routes[static_cast<std::size_t>(i) % 3];
        const auto status = static_cast<std::uint16_t>(i % 2 == 0 ? 200 : 404);
        // Shard index modulo the count: worker w + 4 is shard w.
        r.record(w + (i % 2 == 0 ? 0 : workers),
                 sample(route, "c", status, 1ms, std::nullopt, 1, 2));
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  scraper.join();

  auto e = parse_checked(r.render());
  double total = 0;
  for (const auto& route : routes) {
    const labels l = {{"route", route}, {"cluster", "c"}};
    const double n2xx = value_of(e, "gantry_requests_total", with(l, "status_class", "2xx"));
    const double n4xx = value_of(e, "gantry_requests_total", with(l, "status_class", "4xx"));
    CHECK(n2xx + n4xx == value_of(e, "gantry_request_duration_seconds_count", l));
    CHECK(value_of(e, "gantry_request_bytes_total", l) == n2xx + n4xx);
    CHECK(value_of(e, "gantry_response_bytes_total", l) == 2 * (n2xx + n4xx));
    total += n2xx + n4xx;
  }
  CHECK(total == workers * per_worker);
  CHECK(value_of(e, "gantry_requests_total",
                 {{"route", "users"}, {"cluster", "c"}, {"status_class", "2xx"}}) ==
        workers * 3334);  // i = 0, 6, ... 19998 in each worker
}

TEST_CASE("metrics_registry: connection events, counted from more threads than shards") {
  using gantry::policy::connection_event;
  metrics_registry r{2};
  // Not shown until something is counted.
  CHECK(r.render().find("gantry_connections_total") == std::string::npos);
  CHECK(r.render().find("gantry_tls_handshakes_total") == std::string::npos);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t)  // two per shard
    threads.emplace_back([&r, t] {
      for (int i = 0; i < 1000; ++i) {
        r.count(t, connection_event::accepted);
        r.count(t,
                i % 4 == 0 ? connection_event::tls_resumed : connection_event::tls_full_handshake);
      }
      r.count(t, connection_event::tls_failed);
    });
  for (auto& t : threads) t.join();
  CHECK(r.count(connection_event::accepted) == 4000);
  CHECK(r.count(connection_event::tls_full_handshake) == 3000);
  CHECK(r.count(connection_event::tls_resumed) == 1000);
  CHECK(r.count(connection_event::tls_failed) == 4);
  CHECK(r.count(connection_event::tls_timed_out) == 0);
  auto e = parse_checked(r.render());
  CHECK(value_of(e, "gantry_connections_total", {}) == 4000);
  CHECK(value_of(e, "gantry_tls_handshakes_total", {{"result", "full"}}) == 3000);
  CHECK(value_of(e, "gantry_tls_handshakes_total", {{"result", "resumed"}}) == 1000);
  CHECK(value_of(e, "gantry_tls_handshakes_total", {{"result", "failed"}}) == 4);
  CHECK(value_of(e, "gantry_tls_handshakes_total", {{"result", "timed_out"}}) == 0);
}
