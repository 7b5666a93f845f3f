// Per-policy time accounting: what a timed exchange records, phase by phase and policy by
// policy, that untimed exchanges record nothing and read no clock, sampling one in N, and
// what an asynchronous phase accounts. Policies move a fake clock by known amounts, so every
// duration is exact.
#include "gantry/policy/policy_timing.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/prometheus_text.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/metrics.hpp"
#include "gantry/policy/metrics_registry.hpp"
#include "gantry/policy/request_id.hpp"
#include "gantry/policy/static_chain.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/fake_clock.hpp"
#include "gantry/testing/runner.hpp"

using namespace std::chrono_literals;
using gantry::policy::body_chunk;
using gantry::policy::chain;
using gantry::policy::chain_timing;
using gantry::policy::exchange;
using gantry::policy::metrics_registry;
using gantry::policy::policy_timing;
using gantry::policy::verdict;
using gantry::testing::exchange_builder;
using gantry::testing::fake_clock;

namespace {

// Spends a known time in each phase, by moving the fake clock.
struct steps {
  fake_clock* clock = nullptr;
  std::chrono::nanoseconds request_head{0};
  std::chrono::nanoseconds request_body{0};
  std::chrono::nanoseconds response_head{0};
  std::chrono::nanoseconds response_body{0};
  std::chrono::nanoseconds log{0};

  verdict on_request_head(exchange&) const {
    clock->advance(request_head);
    return verdict::continue_;
  }
  verdict on_request_body(exchange&, body_chunk&) const {
    clock->advance(request_body);
    return verdict::continue_;
  }
  verdict on_response_head(exchange&) const {
    clock->advance(response_head);
    return verdict::continue_;
  }
  verdict on_response_body(exchange&, body_chunk&) const {
    clock->advance(response_body);
    return verdict::continue_;
  }
  void on_log(exchange&) const { clock->advance(log); }
};

// Only a request head phase, that takes `took`.
struct head_only {
  fake_clock* clock = nullptr;
  std::chrono::nanoseconds took{0};
  verdict on_request_head(exchange&) const {
    clock->advance(took);
    return verdict::continue_;
  }
};

// An asynchronous request head: the awaitable "waits" `wait` (the clock moves while it runs).
struct waits {
  fake_clock* clock = nullptr;
  std::chrono::nanoseconds wait{0};
  asio::awaitable<verdict> on_request_head(exchange&) const {
    clock->advance(wait);
    co_return verdict::continue_;
  }
};

// Decides per call: `before` on the worker, then, when `suspend`, an awaitable that takes
// `wait` more.
struct sometimes_waits {
  fake_clock* clock = nullptr;
  bool suspend = true;
  std::chrono::nanoseconds before{0};
  std::chrono::nanoseconds wait{0};
  gantry::policy::outcome on_response_head(exchange&) const {
    clock->advance(before);
    if (!suspend) return verdict::continue_;
    return finish();
  }
  asio::awaitable<verdict> finish() const {
    clock->advance(wait);
    co_return verdict::continue_;
  }
};

// A clock that counts how often it is read.
class counting_clock final : public gantry::policy::clock {
 public:
  time_point now() const noexcept override {
    ++reads;
    return time_point{std::chrono::hours{1}};
  }
  system_time system_now() const noexcept override { return {}; }
  mutable int reads = 0;
};

using labels = std::map<std::string, std::string>;

labels series(std::string policy, std::string phase, std::string mode = "sync") {
  return {{"policy", std::move(policy)}, {"phase", std::move(phase)}, {"mode", std::move(mode)}};
}

prometheus_text::exposition rendered(const policy_timing& t) {
  std::string text;
  t.render(text);
  auto e = prometheus_text::parse(text);
  REQUIRE(e.errors.empty());
  return e;
}

std::optional<double> count_of(const prometheus_text::exposition& e, const labels& l) {
  return e.value("gantry_policy_duration_seconds_count", l);
}
std::optional<double> sum_of(const prometheus_text::exposition& e, const labels& l) {
  return e.value("gantry_policy_duration_seconds_sum", l);
}
std::optional<double> bucket_of(const prometheus_text::exposition& e, labels l, std::string le) {
  l["le"] = std::move(le);
  return e.value("gantry_policy_duration_seconds_bucket", l);
}
double sampled(const prometheus_text::exposition& e) {
  return e.value("gantry_policy_sampled_exchanges_total", {}).value_or(0);
}

// Runs one exchange with a body of two pieces in and two out, on `worker`.
void run_one(const chain& c, fake_clock& clock, std::uint32_t worker = 0) {
  auto ex = exchange_builder{}.body("a").body("b").clock(clock).build();
  ex->worker = worker;
  gantry::testing::run(c, ex, {.body = {"x", "y"}});
}

}  // namespace

TEST_CASE("policy timing: a timed exchange records each phase of each policy, by name") {
  fake_clock clock;
  auto timing = std::make_shared<policy_timing>();
  const steps outer{&clock, 3us, 1us, 20us, 2us, 700ns};
  const steps inner{&clock, 5us, 0ns, 0ns, 0ns, 0ns};
  chain c;
  c.append(chain{}.add(outer), "outer").append(chain{}.add(inner), "inner");
  c.time_policies({.into = timing, .one_in = 1});
  CHECK(c.policy_name(0) == "outer");
  CHECK(c.policy_name(1) == "inner");

  run_one(c, clock);
  auto e = rendered(*timing);
  CHECK(sampled(e) == 1);
  CHECK(count_of(e, series("outer", "request_head")) == 1);
  CHECK(sum_of(e, series("outer", "request_head")) == doctest::Approx(3e-6));
  CHECK(sum_of(e, series("inner", "request_head")) == doctest::Approx(5e-6));
  // Body phases: one observation per piece.
  CHECK(count_of(e, series("outer", "request_body")) == 2);
  CHECK(sum_of(e, series("outer", "request_body")) == doctest::Approx(2e-6));
  CHECK(count_of(e, series("outer", "response_head")) == 1);
  CHECK(sum_of(e, series("outer", "response_head")) == doctest::Approx(20e-6));
  CHECK(count_of(e, series("outer", "response_body")) == 2);
  CHECK(sum_of(e, series("outer", "response_body")) == doctest::Approx(4e-6));
  CHECK(count_of(e, series("outer", "log")) == 1);
  CHECK(sum_of(e, series("outer", "log")) == doctest::Approx(7e-7));
  // Zero-time phases are observations too; nothing is asynchronous.
  CHECK(count_of(e, series("inner", "log")) == 1);
  CHECK_FALSE(count_of(e, series("outer", "request_head", "async")));
  // The buckets place 3 us between 2.5 us and 5 us.
  CHECK(bucket_of(e, series("outer", "request_head"), "2.5e-06") == 0);
  CHECK(bucket_of(e, series("outer", "request_head"), "5e-06") == 1);
  CHECK(bucket_of(e, series("outer", "request_head"), "+Inf") == 1);
}

TEST_CASE("policy timing: an exchange that is not sampled records nothing and reads no clock") {
  counting_clock counted;
  fake_clock moved;  // what the policy moves; the exchange reads `counted`
  auto timing = std::make_shared<policy_timing>();
  const chain plain = chain{}.add(gantry::policy::request_id_config{}).add(head_only{&moved, 1us});
  auto reads_for = [&](const chain& c) {
    counted.reads = 0;
    auto ex = exchange_builder{}.clock(counted).build();
    gantry::testing::run(c, ex);
    return counted.reads;
  };
  const int untimed_reads = reads_for(plain);

  SUBCASE("sampling off") {
    chain off = plain;
    off.time_policies({.into = timing, .one_in = 0});
    CHECK_FALSE(off.timing().on());
    for (int i = 0; i < 3; ++i) CHECK(reads_for(off) == untimed_reads);
    CHECK(sampled(rendered(*timing)) == 0);
    std::string text;
    timing->render(text);
    CHECK(text.find("gantry_policy_duration_seconds_count") == std::string::npos);
  }
  SUBCASE("sampling one in three: the first two are not timed, the third is") {
    chain third = plain;
    third.time_policies({.into = timing, .one_in = 3});
    CHECK(reads_for(third) == untimed_reads);
    CHECK(reads_for(third) == untimed_reads);
    CHECK(sampled(rendered(*timing)) == 0);
    CHECK(reads_for(third) > untimed_reads);
    CHECK(sampled(rendered(*timing)) == 1);
  }
}

TEST_CASE("policy timing: one exchange in N is timed, counted per worker") {
  fake_clock clock;
  auto timing = std::make_shared<policy_timing>(2);
  chain c;
  c.append(chain{}.add(head_only{&clock, 1us}), "h");

  SUBCASE("1 in 4, one worker") {
    c.time_policies({.into = timing, .one_in = 4});
    for (int i = 0; i < 10; ++i) run_one(c, clock);
    auto e = rendered(*timing);
    CHECK(sampled(e) == 2);
    CHECK(count_of(e, series("h", "request_head")) == 2);
  }
  SUBCASE("1 in 4, two workers each count their own") {
    c.time_policies({.into = timing, .one_in = 4});
    for (int i = 0; i < 6; ++i) run_one(c, clock, static_cast<std::uint32_t>(i % 2));
    CHECK(sampled(rendered(*timing)) == 0);  // 3 each: neither has reached its 4th
    for (int i = 0; i < 2; ++i) run_one(c, clock, static_cast<std::uint32_t>(i % 2));
    CHECK(sampled(rendered(*timing)) == 2);
  }
  SUBCASE("1 in 1: every exchange") {
    c.time_policies({.into = timing, .one_in = 1});
    for (int i = 0; i < 7; ++i) run_one(c, clock);
    auto e = rendered(*timing);
    CHECK(sampled(e) == 7);
    CHECK(count_of(e, series("h", "request_head")) == 7);
    CHECK(sum_of(e, series("h", "request_head")) == doctest::Approx(7e-6));
  }
}

TEST_CASE("policy timing: an asynchronous phase is timed to its completion, as mode async") {
  fake_clock clock;
  auto timing = std::make_shared<policy_timing>();
  const sometimes_waits maybe{&clock, true, 1us, 2ms};
  chain c;
  c.append(chain{}.add(waits{&clock, 5ms}), "waits")
      .append(chain{}.add(head_only{&clock, 2us}), "after")
      .append(chain{}.add(maybe), "maybe");
  c.time_policies({.into = timing, .one_in = 1});

  auto ex = exchange_builder{}.clock(clock).build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.suspensions == 2);
  auto e = rendered(*timing);
  // The wall time from the call until the awaitable completed: waiting included.
  CHECK(count_of(e, series("waits", "request_head", "async")) == 1);
  CHECK(sum_of(e, series("waits", "request_head", "async")) == doctest::Approx(5e-3));
  CHECK_FALSE(count_of(e, series("waits", "request_head", "sync")));
  // The policy after it, run inside the chain's coroutine, is timed as usual.
  CHECK(sum_of(e, series("after", "request_head")) == doctest::Approx(2e-6));
  // An outcome: the part on the worker before it returned the awaitable, plus the awaitable.
  CHECK(sum_of(e, series("maybe", "response_head", "async")) == doctest::Approx(2.001e-3));

  // The same policy deciding at once is timed as sync.
  chain ready;
  ready.append(chain{}.add(sometimes_waits{&clock, false, 1us, 2ms}), "maybe");
  ready.time_policies({.into = timing, .one_in = 1});
  auto ex2 = exchange_builder{}.clock(clock).build();
  CHECK(gantry::testing::run(ready, ex2).suspensions == 0);
  e = rendered(*timing);
  CHECK(sum_of(e, series("maybe", "response_head", "sync")) == doctest::Approx(1e-6));
  CHECK(count_of(e, series("maybe", "response_head", "async")) == 1);
}

TEST_CASE("policy timing: the policies of a static_chain element are timed one by one") {
  fake_clock clock;
  auto timing = std::make_shared<policy_timing>();
  using fixed = gantry::policy::static_chain<head_only, waits, steps>;
  chain c;
  c.append(chain{fixed{head_only{&clock, 4us}, waits{&clock, 3ms},
                       steps{&clock, 1us, 0ns, 6us, 0ns, 2us}}},
           "edge");
  c.append(chain{}.add(head_only{&clock, 9us}));  // unnamed: reported under its type
  c.time_policies({.into = timing, .one_in = 1});
  CHECK(c.policy_name(0) == "edge[0]");
  CHECK(c.policy_name(2) == "edge[2]");
  CHECK(c.policy_name(3).ends_with("head_only"));

  run_one(c, clock);
  auto e = rendered(*timing);
  CHECK(sum_of(e, series("edge[0]", "request_head")) == doctest::Approx(4e-6));
  CHECK(sum_of(e, series("edge[1]", "request_head", "async")) == doctest::Approx(3e-3));
  CHECK(sum_of(e, series("edge[2]", "request_head")) == doctest::Approx(1e-6));
  CHECK(sum_of(e, series("edge[2]", "response_head")) == doctest::Approx(6e-6));
  CHECK(sum_of(e, series("edge[2]", "log")) == doctest::Approx(2e-6));
  CHECK(count_of(e, series("edge[2]", "request_body")) == 2);
  CHECK(sum_of(e, series(std::string{c.policy_name(3)}, "request_head")) == doctest::Approx(9e-6));
}

TEST_CASE("policy timing: the metrics policy asks its chains to time every policy") {
  fake_clock clock;
  auto registry = std::make_shared<metrics_registry>();
  chain c;
  c.add(head_only{&clock, 1us})
      .add(gantry::policy::metrics_config{.registry = registry, .policy_time_sampling = 1});
  REQUIRE(c.timing().on());
  CHECK(c.timing().one_in == 1);
  // Appended elsewhere, the chain brings its timing along, and it covers what comes before.
  chain route;
  route.append(chain{}.add(gantry::policy::request_id_config{}), "ids").append(c);
  CHECK(route.timing().on());

  auto ex = exchange_builder{}.clock(clock).build();
  gantry::testing::run(route, ex);
  auto e = prometheus_text::parse(registry->render());
  REQUIRE(e.errors.empty());
  CHECK(count_of(e, series("ids", "request_head")) == 1);
  CHECK(count_of(e, series(std::string{route.policy_name(1)}, "request_head")) == 1);
  CHECK(count_of(e, series("gantry::policy::metrics", "log")) == 1);

  // Sampling 0 asks for nothing; the default is one in 64.
  chain off;
  off.add(gantry::policy::metrics_config{.registry = registry, .policy_time_sampling = 0});
  CHECK_FALSE(off.timing().on());
  chain by_default;
  by_default.add(gantry::policy::metrics_config{.registry = registry});
  CHECK(by_default.timing().one_in == 64);
}

TEST_CASE("policy timing: a name keeps its slot; names beyond the limit share \"other\"") {
  policy_timing t;
  CHECK(t.slot("a") == t.slot("a"));
  CHECK(t.slot("a") != t.slot("b"));
  for (std::size_t i = 0; i < policy_timing::max_policies + 10; ++i)
    CHECK(t.slot(fmt::format("p{}", i)) < policy_timing::max_policies);
  CHECK(t.slot("p5000") == t.slot("other"));
  CHECK(t.slot("a") == 0);
  CHECK_THROWS_AS(policy_timing{0}, std::invalid_argument);
}
