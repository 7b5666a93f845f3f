#include "gantry/policy/chain.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gantry/policy/static_chain.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/fake_clock.hpp"
#include "gantry/testing/runner.hpp"
#include "probe.hpp"

using gantry::http::status;
using gantry::policy::chain;
using gantry::policy::exchange;
using gantry::policy::static_chain;
using gantry::policy::verdict;
using gantry::testing::exchange_builder;
using gantry::testing::upstream_reply;
using probe_kit::act;
using probe_kit::probe;
using probe_kit::trace;

namespace {

using strings = std::vector<std::string>;

chain three_probes(trace& log, probe_kit::script a = {}, probe_kit::script b = {},
                   probe_kit::script c = {}) {
  chain ch;
  ch.add(probe{"A", &log, a}).add(probe{"B", &log, b}).add(probe{"C", &log, c});
  return ch;
}

const upstream_reply reply_with_body{.status = status::ok, .headers = {}, .body = {"up"}};

}  // namespace

TEST_CASE(
    "policy chain: every phase continues, request phases in order, response phases reversed") {
  trace log;
  auto ch = three_probes(log);
  auto ex = exchange_builder{}.body("req").build();
  auto r = gantry::testing::run(ch, ex, reply_with_body);

  CHECK(r.request_head == verdict::continue_);
  CHECK(r.request_body == verdict::continue_);
  CHECK(r.response_head == verdict::continue_);
  CHECK(r.response_body == verdict::continue_);
  CHECK(r.suspensions == 0);
  CHECK(r.forwarded);
  CHECK_FALSE(r.local);
  CHECK(log == strings{"A:request_head", "B:request_head", "C:request_head", "A:request_body",
                       "B:request_body", "C:request_body", "C:response_head", "B:response_head",
                       "A:response_head", "C:response_body", "B:response_body", "A:response_body",
                       "A:log:4", "B:log:4", "C:log:4"});
  // The response head saw C first and A last.
  strings seen;
  for (auto f : r.response.fields) seen.emplace_back(f.value);
  CHECK(seen == strings{"C", "B", "A"});
}

TEST_CASE("policy chain: a synchronous run is ready at once and creates no coroutine frame") {
  trace log;
  auto ch = three_probes(log);
  auto ex = exchange_builder{}.build();
  auto o = ch.run_request_head(*ex);
  CHECK(o.ready());
  CHECK(o.value() == verdict::continue_);
}

TEST_CASE("policy chain: answering in the request head") {
  trace log;
  auto ch = three_probes(log, {}, {.request_head = act::respond});
  auto ex = exchange_builder{}.body("req").build();
  auto r = gantry::testing::run(ch, ex, reply_with_body);

  CHECK(r.request_head == verdict::respond);
  CHECK_FALSE(r.request_body.has_value());  // nothing streams once answered
  CHECK_FALSE(r.forwarded);
  CHECK(r.local);
  CHECK(r.response.status == status::forbidden);
  CHECK(r.body == "from B");
  // Only A, which passed the request on, sees the local response; log runs for all three.
  CHECK(log == strings{"A:request_head", "B:request_head", "A:response_head", "A:response_body",
                       "A:log:3", "B:log:1", "C:log:0"});
  CHECK(r.response.fields.get("X-Seen-By") == "A");
  CHECK(r.response.fields.get("Content-Type") == "text/plain");
}

TEST_CASE("policy chain: the first policy answering leaves no response phase to run") {
  trace log;
  auto ch = three_probes(log, {.request_head = act::respond});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(ch, ex);
  CHECK(r.request_head == verdict::respond);
  CHECK(r.response_head == verdict::continue_);
  CHECK(log == strings{"A:request_head", "A:log:1", "B:log:0", "C:log:0"});
}

TEST_CASE("policy chain: answering in the request body stops the body and the upstream") {
  trace log;
  auto ch = three_probes(log, {}, {}, {.request_body = act::respond});
  auto ex = exchange_builder{}.body("one").body("two").build();
  auto r = gantry::testing::run(ch, ex, reply_with_body);
  CHECK(r.request_head == verdict::continue_);
  CHECK(r.request_body == verdict::respond);
  CHECK_FALSE(r.forwarded);
  CHECK(r.body == "from C");
  CHECK(log == strings{"A:request_head", "B:request_head", "C:request_head", "A:request_body",
                       "B:request_body", "C:request_body", "B:response_head", "A:response_head",
                       "B:response_body", "A:response_body", "A:log:4", "B:log:4", "C:log:2"});
  // A request phase after the answer does nothing and keeps answering.
  gantry::policy::body_chunk more{"three", true};
  auto o = ch.run_request_body(*ex, more);
  REQUIRE(o.ready());
  CHECK(o.value() == verdict::respond);
}

TEST_CASE("policy chain: answering in the response head is final") {
  trace log;
  auto ch = three_probes(log, {}, {.response_head = act::respond});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(ch, ex, reply_with_body);
  CHECK(r.forwarded);
  CHECK(r.response_head == verdict::respond);
  CHECK_FALSE(r.response_body.has_value());
  CHECK(r.local);
  CHECK(r.body == "from B");
  CHECK(log == strings{"A:request_head", "B:request_head", "C:request_head", "C:response_head",
                       "B:response_head", "A:log:1", "B:log:2", "C:log:2"});
}

TEST_CASE("policy chain: answering in the response body replaces the response") {
  trace log;
  auto ch = three_probes(log, {}, {.response_body = act::respond});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(ch, ex, {.status = status::ok, .headers = {}, .body = {"a", "b"}});
  CHECK(r.response_body == verdict::respond);
  CHECK(r.local);
  CHECK(r.body == "from B");
  CHECK(log == strings{"A:request_head", "B:request_head", "C:request_head", "C:response_head",
                       "B:response_head", "A:response_head", "C:response_body", "B:response_body",
                       "A:log:2", "B:log:3", "C:log:3"});
}

TEST_CASE("policy chain: phases suspend and resume, in every phase") {
  for (act how : {act::post, act::timer}) {
    CAPTURE(static_cast<int>(how));
    trace log;
    probe_kit::script all{how, how, how, how};
    auto ch = three_probes(log, {}, all);
    auto ex = exchange_builder{}.body("req").build();

    auto o = ch.run_request_head(*ex);
    CHECK_FALSE(o.ready());  // B suspended; C has not run yet
    CHECK(log == strings{"A:request_head", "B:request_head"});
    CHECK(gantry::testing::run_awaitable(std::move(o).awaitable()) == verdict::continue_);
    CHECK(log ==
          strings{"A:request_head", "B:request_head", "B:request_head:resumed", "C:request_head"});

    log.clear();
    auto fresh = exchange_builder{}.body("req").build();
    auto r = gantry::testing::run(ch, fresh, reply_with_body);
    CHECK(r.suspensions == 4);
    CHECK(r.request_head == verdict::continue_);
    CHECK(r.response_body == verdict::continue_);
    CHECK(log == strings{"A:request_head", "B:request_head", "B:request_head:resumed",
                         "C:request_head", "A:request_body", "B:request_body",
                         "B:request_body:resumed", "C:request_body", "C:response_head",
                         "B:response_head", "B:response_head:resumed", "A:response_head",
                         "C:response_body", "B:response_body", "B:response_body:resumed",
                         "A:response_body", "A:log:4", "B:log:4", "C:log:4"});
  }
}

TEST_CASE("policy chain: a suspended phase can answer when it resumes") {
  trace log;
  auto ch = three_probes(log, {}, {.request_head = act::post_respond}, {.request_head = act::post});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(ch, ex, reply_with_body);
  CHECK(r.suspensions == 1);
  CHECK(r.request_head == verdict::respond);
  CHECK(r.body == "from B");
  CHECK(log == strings{"A:request_head", "B:request_head", "B:request_head:resumed",
                       "A:response_head", "A:response_body", "A:log:3", "B:log:1", "C:log:0"});
}

TEST_CASE("policy chain: several suspensions in one phase run chained") {
  trace log;
  auto ch = three_probes(log, {.request_head = act::timer}, {}, {.request_head = act::post});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(ch, ex);
  CHECK(r.suspensions == 1);  // one pending outcome, which ran both suspensions
  CHECK(log == strings{"A:request_head", "A:request_head:resumed", "B:request_head",
                       "C:request_head", "C:request_head:resumed", "C:response_head",
                       "B:response_head", "A:response_head", "A:log:2", "B:log:2", "C:log:2"});
}

TEST_CASE("policy chain: verdict, awaitable and outcome phases mix in one chain") {
  trace log;
  chain ch;
  ch.add(probe_kit::sync_probe{"S", &log})
      .add(probe_kit::async_probe{"W", &log})
      .add(probe{"P", &log});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(ch, ex);
  CHECK(r.suspensions == 2);
  CHECK(r.forwarded);
  CHECK(log == strings{"S:request_head", "W:request_head", "W:request_head:resumed",
                       "P:request_head", "P:response_head", "W:response_head",
                       "W:response_head:resumed", "S:response_head", "S:log", "P:log:2"});
}

TEST_CASE("policy chain: body phases transform pieces, each policy seeing the last one's") {
  trace log;
  chain ch;
  ch.add(probe{"A", &log, {}, true}).add(probe{"B", &log, {}, true});
  auto ex = exchange_builder{}.body("x").body("y").build();
  auto r = gantry::testing::run(ch, ex, {.status = status::ok, .headers = {}, .body = {"p", "q"}});
  CHECK(r.upstream_body == "x<A><B>y<A><B>");
  CHECK(r.body == "p<B><A>q<B><A>");
}

TEST_CASE("policy chain: answering without a local response yields a 500") {
  struct careless {
    verdict on_request_head(exchange&) const { return verdict::respond; }
  };
  chain ch;
  ch.add(careless{});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(ch, ex);
  CHECK(r.local);
  CHECK(r.response.status == status::internal_server_error);
}

TEST_CASE("policy chain: log runs for every policy even when one throws; the first rethrows") {
  struct thrower {
    std::string what;
    void on_log(exchange&) const { throw std::runtime_error(what); }
  };
  trace log;
  chain ch;
  ch.add(thrower{"first"}).add(probe_kit::sync_probe{"S", &log}).add(thrower{"second"});
  auto ex = exchange_builder{}.build();
  CHECK_THROWS_WITH(ch.run_log(*ex), "first");
  CHECK(log == strings{"S:log"});

  static_chain<thrower, probe_kit::sync_probe, thrower> st{
      thrower{"first"}, probe_kit::sync_probe{"S", &log}, thrower{"second"}};
  auto ex2 = exchange_builder{}.build();
  CHECK_THROWS_WITH(st.run_log(*ex2), "first");
  CHECK(log == strings{"S:log", "S:log"});
}

TEST_CASE("policy chain: log sets the end time from the exchange's clock") {
  gantry::testing::fake_clock clock;
  trace log;
  auto ch = three_probes(log);
  auto ex = exchange_builder{}.clock(clock).build();
  const auto started = clock.now();
  CHECK(ex->timings.start == started);
  clock.advance(std::chrono::milliseconds{5});
  auto r = gantry::testing::run(ch, ex);
  CHECK(ex->timings.response_head == started + std::chrono::milliseconds{5});
  CHECK(ex->timings.end - ex->timings.start == std::chrono::milliseconds{5});
  CHECK(r.forwarded);
}

namespace {

// Counts live states, to check they are built per exchange and destroyed on reset.
struct counted {
  static inline int live = 0;
  static inline int built = 0;
  struct state {
    int value = 0;  // value-initialized
    state() {
      ++live;
      ++built;
    }
    ~state() { --live; }
    state(const state&) = delete;
    state& operator=(const state&) = delete;
  };
  verdict on_request_head(exchange&, state& s) const {
    CHECK(s.value == 0);
    ++s.value;
    return verdict::continue_;
  }
  void on_log(exchange&, state& s) const { CHECK(s.value == 1); }
};

// A state too large for the exchange's inline arena.
struct bulky {
  struct state {
    char bytes[1000] = {};
    double tail = 1.5;
  };
  verdict on_request_head(exchange&, state& s) const {
    CHECK(s.tail == 1.5);
    s.bytes[999] = 'x';
    return verdict::continue_;
  }
};

}  // namespace

TEST_CASE("policy chain: each policy gets its own state, built per exchange and reset after") {
  counted::live = counted::built = 0;
  chain ch;
  ch.add(counted{}).add(bulky{}).add(counted{});
  CHECK(ch.layout().entries.size() == 3);
  CHECK(ch.layout().size > gantry::policy::state_store::inline_capacity);

  exchange ex;
  for (int round = 0; round < 3; ++round) {
    ex.reset();
    ex.start();
    CHECK(ch.run_request_head(ex).value() == verdict::continue_);
    CHECK(counted::live == 2);  // two instances of one policy type: two states
    ch.run_log(ex);
  }
  CHECK(counted::built == 6);
  ex.reset();
  CHECK(counted::live == 0);

  static_chain<counted, bulky, counted> st;
  static_assert(decltype(st)::size() == 3);
  ex.start();
  CHECK(st.run_request_head(ex).value() == verdict::continue_);
  CHECK(counted::live == 2);
  st.run_log(ex);
  ex.reset();
  CHECK(counted::live == 0);
}

TEST_CASE("policy chain: built from configs, and appended to another chain") {
  trace log;
  chain listener;
  listener.add(probe_kit::sync_probe{"L", &log});
  chain route;
  route.add(probe{"R", &log});
  chain both;
  both.append(listener).append(route);
  CHECK(both.size() == 2);
  CHECK(both.layout().entries.size() == 1);

  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(both, ex);
  CHECK(r.forwarded);
  CHECK(log == strings{"L:request_head", "R:request_head", "R:response_head", "L:response_head",
                       "L:log", "R:log:2"});

  chain self;
  self.add(probe{"S", &log}).append(self);
  CHECK(self.size() == 2);
  CHECK(self.layout().entries.size() == 2);
  CHECK(self.layout().entries[1].offset > self.layout().entries[0].offset);
}

TEST_CASE("policy chain: an empty chain continues everywhere") {
  chain ch;
  static_chain<> st;
  auto a = exchange_builder{}.build();
  auto b = exchange_builder{}.build();
  auto ra = gantry::testing::run(ch, a, reply_with_body);
  auto rb = gantry::testing::run(st, b, reply_with_body);
  CHECK(ra.forwarded);
  CHECK(ra.body == "up");
  CHECK(gantry::testing::describe(ra) == gantry::testing::describe(rb));
}

namespace {

// Implements both head phases, but says only the response one does anything.
struct half_idle {
  int* request_calls;
  int* response_calls;
  gantry::policy::verdict on_request_head(gantry::policy::exchange&) const {
    ++*request_calls;
    return gantry::policy::verdict::continue_;
  }
  gantry::policy::verdict on_response_head(gantry::policy::exchange&) const {
    ++*response_calls;
    return gantry::policy::verdict::continue_;
  }
  std::uint8_t phases_in_use() const noexcept {
    return gantry::policy::phase_bit(gantry::policy::phase::response_head);
  }
};

}  // namespace

TEST_CASE("policy chain: a phase a policy says it does not use is never called") {
  int request_calls = 0;
  int response_calls = 0;
  chain ch;
  ch.add(half_idle{&request_calls, &response_calls});
  CHECK_FALSE(ch.has_phase(gantry::policy::phase::request_head));
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(ch, ex);
  CHECK(r.forwarded);
  CHECK(request_calls == 0);
  CHECK(response_calls == 1);
}
