// The synchronous path allocates nothing once an exchange object is warm: this file counts
// every operator new on the thread while a chain runs. Skipped under AddressSanitizer, which
// owns operator new.

#include <doctest/doctest.h>

#include <cstdlib>
#include <new>

#include "gantry/policy/chain.hpp"
#include "gantry/policy/headers.hpp"
#include "gantry/policy/request_id.hpp"
#include "gantry/policy/static_chain.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define GANTRY_COUNT_ALLOCATIONS 0
#else
#define GANTRY_COUNT_ALLOCATIONS 1
#endif

#if GANTRY_COUNT_ALLOCATIONS
namespace {
thread_local bool counting = false;
thread_local int allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

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
#if GANTRY_COUNT_ALLOCATIONS
  allocations = 0;
  counting = true;
  void* volatile seen = ::operator new(16);  // the counter works: this one counts
  counting = false;
  ::operator delete(seen);
  REQUIRE(allocations == 1);
  allocations = 0;
  counting = true;
#endif
  int pending = 0;
  for (int i = 0; i < 100; ++i) pending += one_exchange(c, ex);
#if GANTRY_COUNT_ALLOCATIONS
  counting = false;
  CHECK(allocations == 0);
#endif
  CHECK(pending == 0);
}

}  // namespace

TEST_CASE("policy allocation: a synchronous chain allocates nothing on a warm exchange") {
#if !GANTRY_COUNT_ALLOCATIONS
  MESSAGE("allocation counting is off under AddressSanitizer");
#endif
  gantry::policy::chain dynamic;
  dynamic.add(gantry::policy::request_id_config{}).add(edits).add(tally{});
  check_no_allocation(dynamic);

  const gantry::policy::static_chain<gantry::policy::request_id, gantry::policy::headers, tally>
      fixed{gantry::policy::request_id_config{}, edits, tally{}};
  check_no_allocation(fixed);
}
