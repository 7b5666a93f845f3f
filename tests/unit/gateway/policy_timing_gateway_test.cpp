// Per-policy time accounting in a running gateway: after traffic on loopback, the metrics
// endpoint shows each named policy's phases (or nothing, with sampling off).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "common/prometheus_text.hpp"
#include "gantry/gateway/gateway.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/metrics.hpp"
#include "gantry/policy/metrics_endpoint.hpp"
#include "gantry/policy/metrics_registry.hpp"
#include "gantry/policy/request_id.hpp"

using namespace std::chrono_literals;

namespace {

// One GET with Connection: close; the body of the response (everything after the head).
std::string get(asio::ip::tcp::endpoint gateway, std::string_view path) {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  socket.connect(gateway);
  const std::string request =
      fmt::format("GET {} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
  asio::write(socket, asio::buffer(request));
  std::string received;
  char buffer[4096];
  std::error_code ec;
  while (!ec) received.append(buffer, socket.read_some(asio::buffer(buffer), ec));
  const auto body = received.find("\r\n\r\n");
  return body == std::string::npos ? std::string{} : received.substr(body + 4);
}

// A two-worker gateway: request ids and metrics on every exchange, /hello answered by the
// gateway, /metrics by the metrics endpoint.
struct timed_gateway {
  std::shared_ptr<gantry::policy::metrics_registry> registry =
      std::make_shared<gantry::policy::metrics_registry>(2);
  gantry::gateway gw{gantry::gateway_options{.workers = 2}};
  asio::ip::tcp::endpoint bound;

  explicit timed_gateway(std::uint32_t sampling) {
    namespace route = gantry::route;
    gw.policy("ids", gantry::policy::chain{}.add(gantry::policy::request_id_config{}));
    gw.policy("metrics", gantry::policy::chain{}.add(gantry::policy::metrics_config{
                             .registry = registry, .policy_time_sampling = sampling}));
    gw.policy("prometheus", gantry::policy::chain{}.add(
                                gantry::policy::metrics_endpoint_config{.registry = registry}));
    gw.use("ids").use("metrics");
    gw.route(
        {.name = "hello",
         .match = {.path = route::path_exact{"/hello"}},
         .action = route::direct_response{.status = gantry::http::status::ok, .body = "hi\n"}});
    route::route metrics;
    metrics.name = "metrics";
    metrics.match.path = route::path_exact{"/metrics"};
    metrics.policies = {"prometheus"};  // answers before the action is reached
    metrics.action = route::direct_response{.status = gantry::http::status::not_found};
    gw.route(std::move(metrics));
    bound = gw.listen("127.0.0.1:0");
    gw.start();
  }
  ~timed_gateway() {
    gw.stop();
    gw.wait();
  }
};

std::optional<double> count_of(const prometheus_text::exposition& e, std::string policy,
                               std::string phase) {
  return e.value("gantry_policy_duration_seconds_count",
                 {{"policy", std::move(policy)}, {"phase", std::move(phase)}, {"mode", "sync"}});
}

}  // namespace

TEST_CASE("gateway policy timing: the metrics endpoint shows each named policy's phases") {
  timed_gateway g{1};
  for (int i = 0; i < 4; ++i) CHECK(get(g.bound, "/hello") == "hi\n");

  // The log phase runs after the response is written: scrape until the fourth is counted.
  prometheus_text::exposition e;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    e = prometheus_text::parse(get(g.bound, "/metrics"));
    REQUIRE(e.errors.empty());
    if (count_of(e, "metrics", "log").value_or(0) >= 4 ||
        std::chrono::steady_clock::now() > deadline)
      break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(count_of(e, "metrics", "log").value_or(0) >= 4);
  // A scrape's own request head is timed once the endpoint has rendered: the next one shows it.
  e = prometheus_text::parse(get(g.bound, "/metrics"));
  REQUIRE(e.errors.empty());
  CHECK(count_of(e, "ids", "request_head").value_or(0) >= 5);  // the scrape's own counts
  CHECK(count_of(e, "ids", "response_head").value_or(0) >= 4);
  CHECK(count_of(e, "prometheus", "request_head").value_or(0) >= 1);
  CHECK(e.value("gantry_policy_sampled_exchanges_total", {}).value_or(0) >= 5);
  // What the bucket lines say agrees with the count.
  CHECK(e.value("gantry_policy_duration_seconds_bucket",
                {{"policy", "ids"}, {"phase", "request_head"}, {"mode", "sync"}, {"le", "+Inf"}}) ==
        count_of(e, "ids", "request_head"));
}

TEST_CASE("gateway policy timing: with sampling off, traffic adds no policy series") {
  timed_gateway g{0};
  for (int i = 0; i < 4; ++i) CHECK(get(g.bound, "/hello") == "hi\n");
  const std::string text = get(g.bound, "/metrics");
  CHECK(text.find("gantry_requests_total{route=\"hello\"") != std::string::npos);
  CHECK(text.find("gantry_policy_duration_seconds_count") == std::string::npos);
  CHECK(text.find("\ngantry_policy_sampled_exchanges_total ") == std::string::npos);
}
