// testing::benchmark_chain: what it reports about a chain, checked on policies whose calls,
// answers and allocations are known. (Its times are measurements, not checked here.)
#include "gantry/testing/chain_benchmark.hpp"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <string>

#include "allocation_counter.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/exchange.hpp"

namespace {

using gantry::policy::phase;
using gantry::policy::verdict;

struct heads_and_log {
  verdict on_request_head(gantry::policy::exchange&) const { return verdict::continue_; }
  verdict on_response_head(gantry::policy::exchange&) const { return verdict::continue_; }
  void on_log(gantry::policy::exchange&) const {}
};

struct body_reader {
  verdict on_response_body(gantry::policy::exchange&, gantry::policy::body_chunk&) const {
    return verdict::continue_;
  }
};

struct refuser {
  verdict on_request_head(gantry::policy::exchange& ex) const {
    return ex.respond(gantry::http::status::forbidden, "no\n", "text/plain");
  }
};

// Allocates once per exchange: a box that replaces the last one (kept where the compiler
// cannot elide it).
struct allocator {
  verdict on_request_head(gantry::policy::exchange&) const {
    static thread_local std::unique_ptr<std::array<char, 64>> last;
    last = std::make_unique<std::array<char, 64>>();
    return verdict::continue_;
  }
};

std::uint64_t thread_allocations() { return gantry::test::thread_allocations(); }

const gantry::testing::policy_phase_cost* find(const gantry::testing::benchmark_report& r,
                                               std::string_view policy, phase ph) {
  for (const auto& p : r.policies)
    if (p.policy == policy && p.phase == ph) return &p;
  return nullptr;
}

}  // namespace

TEST_CASE("benchmark_chain: each phase of each policy, with its calls per exchange") {
  gantry::policy::chain c;
  c.append(gantry::policy::chain{}.add(heads_and_log{}), "heads");
  c.append(gantry::policy::chain{}.add(body_reader{}), "body");
  const auto r = gantry::testing::benchmark_chain(
      c, {.target = "/items", .response_body = 40'000, .piece_size = 16'384},
      {.exchanges = 300, .warmup = 10});
  CHECK(r.exchanges == 300);
  CHECK(r.status == gantry::http::status::ok);
  CHECK_FALSE(r.local);
  CHECK(r.exchange_ns.p50 > 0);
  CHECK(r.exchange_ns.p99 >= r.exchange_ns.p50);
  CHECK(r.bare_ns.p50 > 0);
  CHECK_FALSE(r.allocations.has_value());  // no counter was given

  REQUIRE(r.policies.size() == 4);
  for (phase ph : {phase::request_head, phase::response_head, phase::log}) {
    const auto* p = find(r, "heads", ph);
    REQUIRE(p != nullptr);
    CHECK(p->calls_per_exchange == doctest::Approx(1.0));
    CHECK_FALSE(p->async);
    CHECK(p->ns.p99 >= p->ns.p50);
  }
  // 40 000 bytes in pieces of 16 384: three pieces, the last one marked as the end.
  const auto* body = find(r, "body", phase::response_body);
  REQUIRE(body != nullptr);
  CHECK(body->calls_per_exchange == doctest::Approx(3.0));

  const std::string table = gantry::testing::describe(r);
  CHECK(table.find("300 exchanges per pass; the last answered 200 by the upstream") !=
        std::string::npos);
  CHECK(table.find("response_body") != std::string::npos);
}

TEST_CASE("benchmark_chain: an answering policy, and no upstream body phase after it") {
  gantry::policy::chain c;
  c.append(gantry::policy::chain{}.add(refuser{}), "refuser");
  c.append(gantry::policy::chain{}.add(body_reader{}), "body");
  const auto r = gantry::testing::benchmark_chain(c, {.response_body = 100}, {.exchanges = 50});
  CHECK(r.status == gantry::http::status::forbidden);
  CHECK(r.local);
  CHECK(find(r, "refuser", phase::request_head) != nullptr);
  CHECK(find(r, "body", phase::response_body) == nullptr);  // it sees no response
}

TEST_CASE("benchmark_chain: allocations per exchange, with the chain and without") {
  if (!gantry::test::counting_allocations) return;  // the sanitizer owns operator new
  gantry::policy::chain c;
  c.add(allocator{});
  const auto r = gantry::testing::benchmark_chain(
      c, {}, {.exchanges = 500, .allocations = thread_allocations});
  REQUIRE(r.allocations.has_value());
  REQUIRE(r.bare_allocations.has_value());
  CHECK(*r.bare_allocations == doctest::Approx(0.0));  // the flow itself allocates nothing
  CHECK(*r.allocations == doctest::Approx(1.0));
  CHECK(gantry::testing::describe(r).find("allocations per exchange: 1.00 (no policy: 0.00)") !=
        std::string::npos);
}

TEST_CASE("benchmark_chain: a route's own answer goes through the response phases, not upstream") {
  gantry::policy::chain c;
  c.append(gantry::policy::chain{}.add(heads_and_log{}), "heads");
  c.append(gantry::policy::chain{}.add(body_reader{}), "body");
  gantry::testing::benchmark_exchange shape;
  shape.answer = gantry::route::direct_response{
      .status = gantry::http::status::method_not_allowed, .headers = {}, .body = "queued\n"};
  const auto r = gantry::testing::benchmark_chain(c, shape, {.exchanges = 50});
  CHECK(r.status == gantry::http::status::method_not_allowed);
  CHECK(r.local);
  const auto* body = find(r, "body", phase::response_body);
  REQUIRE(body != nullptr);
  CHECK(body->calls_per_exchange == doctest::Approx(1.0));  // the local body, one last piece
}
