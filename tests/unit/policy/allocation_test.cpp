// The synchronous path allocates nothing once an exchange object is warm: every operator new
// on the thread while a chain runs is counted (not under AddressSanitizer, which owns it).

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <memory>
#include <new>
#include <string>

#include "allocation_counter.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/headers.hpp"
#include "gantry/policy/policy_timing.hpp"
#include "gantry/policy/request_id.hpp"
#include "gantry/policy/static_chain.hpp"

using gantry::test::counting_allocations;
using gantry::test::thread_allocations;

namespace {

using gantry::policy::exchange;
using gantry::policy::verdict;

// A policy with state, to show that state costs no allocation either.
struct tally {
  struct state {
    int seen = 0;
  };
  verdict on_request_head(exchange&, state& s) const {
    ++s.seen;
    return verdict::continue_;
  }
  verdict on_response_body(exchange&, gantry::policy::body_chunk&, state& s) const {
    ++s.seen;
    return verdict::continue_;
  }
  void on_log(exchange&, state& s) const { s.seen = 0; }
};

const gantry::policy::headers_config edits{
    .request = {.remove = {"X-Internal"},
                .rename = {{"X-Old", "X-New"}},
                .set = {{"X-User", "user-{id}-at-{host}-with-a-long-value"}},
                .add = {{"X-Path", "{path}"}}},
    .response = {.remove = {"Server"}, .rename = {}, .set = {{"Via", "gantry"}}, .add = {}}};

// Runs one whole exchange; returns how many phases were not ready (must be none).
template <class Chain>
int one_exchange(const Chain& c, exchange& ex) {
  static const gantry::policy::route_param params[] = {{"id", "7"}};
  ex.reset();
  ex.start();
  ex.request.target.assign("/users/7?full=1");
  ex.request.fields.add("Host", "api.example.com");
  ex.request.fields.add("X-Old", "old");
  ex.request.fields.add("X-Internal", "secret");
  ex.request.fields.add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ex.params = params;
  int pending = 0;
  pending += !c.run_request_head(ex).ready();
  ex.response.status = gantry::http::status::ok;
  ex.response.fields.add("Server", "upstream");
  ex.accept_upstream_response();
  pending += !c.run_response_head(ex).ready();
  gantry::policy::body_chunk piece{"body", true};
  pending += !c.run_response_body(ex, piece).ready();
  c.run_log(ex);
  return pending;
}

template <class Chain>
void check_no_allocation(const Chain& c) {
  exchange ex;
  one_exchange(c, ex);  // warm the exchange's buffers and the thread's scratch
  one_exchange(c, ex);
  const std::size_t before_probe = thread_allocations();
  void* volatile seen = ::operator new(16);  // the counter works: this one counts
  ::operator delete(seen);
  REQUIRE(thread_allocations() - before_probe == (counting_allocations ? 1 : 0));
  const std::size_t before = thread_allocations();
  int pending = 0;
  for (int i = 0; i < 100; ++i) pending += one_exchange(c, ex);
  CHECK(thread_allocations() - before == 0);
  CHECK(pending == 0);
}

}  // namespace

TEST_CASE("policy allocation: a synchronous chain allocates nothing on a warm exchange") {
  if (!counting_allocations) MESSAGE("allocation counting is off under AddressSanitizer");
  gantry::policy::chain dynamic;
  dynamic.add(gantry::policy::request_id_config{}).add(edits).add(tally{});
  check_no_allocation(dynamic);

  const gantry::policy::static_chain<gantry::policy::request_id, gantry::policy::headers, tally>
      fixed{gantry::policy::request_id_config{}, edits, tally{}};
  check_no_allocation(fixed);
}

TEST_CASE("policy allocation: timing the policies allocates nothing once each is recorded") {
  if (!counting_allocations) MESSAGE("allocation counting is off under AddressSanitizer");
  for (const std::uint32_t one_in : {0u, 1u, 64u}) {
    CAPTURE(one_in);
    auto timing = std::make_shared<gantry::policy::policy_timing>();
    gantry::policy::chain dynamic;
    dynamic.add(gantry::policy::request_id_config{}).add(edits).add(tally{});
    dynamic.add(gantry::policy::static_chain<tally, gantry::policy::request_id>{
        tally{}, gantry::policy::request_id_config{}});
    dynamic.time_policies({.into = timing, .one_in = one_in});
    exchange ex;
    // Warm: every policy's series gets recorded (and allocated) once in this shard.
    for (int i = 0; i < 130; ++i) one_exchange(dynamic, ex);
    const std::size_t before = thread_allocations();
    int pending = 0;
    for (int i = 0; i < 200; ++i) pending += one_exchange(dynamic, ex);
    CHECK(thread_allocations() - before == 0);
    CHECK(pending == 0);
    std::string text;
    timing->render(text);
    const std::uint32_t timed = one_in == 0 ? 0 : 330 / one_in;
    CHECK((timed == 0) ==
          (text.find("\ngantry_policy_sampled_exchanges_total ") == std::string::npos));
    if (timed > 0)
      CHECK(text.find(fmt::format("gantry_policy_sampled_exchanges_total {}\n", timed)) !=
            std::string::npos);
  }
}
