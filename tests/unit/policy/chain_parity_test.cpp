// The compile-time and the run-time chain, built from the same policies, must give identical
// results: same verdicts, same heads and bodies, same phases run in the same order. So must a
// static chain served as one element of a run-time chain.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "gantry/policy/chain.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/policy/headers.hpp"
#include "gantry/policy/static_chain.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/runner.hpp"
#include "probe.hpp"

using gantry::http::status;
using gantry::policy::chain;
using gantry::policy::direct_response;
using gantry::policy::direct_response_config;
using gantry::policy::headers;
using gantry::policy::headers_config;
using gantry::policy::static_chain;
using gantry::testing::exchange_builder;
using gantry::testing::upstream_reply;
using probe_kit::act;
using probe_kit::probe;
using probe_kit::script;

namespace {

struct scenario {
  const char* name;
  script a{}, b{}, c{};
  bool with_bodies = true;
};

const headers_config transform{
    .request = {.remove = {}, .rename = {}, .set = {{"X-User", "{id}"}}, .add = {}},
    .response = {.remove = {}, .rename = {}, .set = {}, .add = {{"X-Path", "{path}"}}}};

// One run of `ch`: what the runner saw, then the order of phases the probes logged.
template <class Chain>
std::string run_once(const Chain& ch, probe_kit::trace& log, bool with_bodies) {
  log.clear();
  exchange_builder b;
  b.target("/users/7?x=1").header("Host", "h").param("id", "7");
  if (with_bodies) b.body("r1").body("r2");
  auto ex = b.build();
  upstream_reply reply{.status = status::ok, .headers = {{"Server", "up"}}, .body = {}};
  if (with_bodies) reply.body = {"u1", "u2"};
  auto result = gantry::testing::run(ch, ex, reply);
  std::string out = gantry::testing::describe(result);
  for (const auto& line : log) out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("policy parity: static_chain and chain give identical results on every scenario") {
  const scenario scenarios[] = {
      {"all continue"},
      {"no bodies", {}, {}, {}, false},
      {"first answers on the request head", {.request_head = act::respond}},
      {"middle answers on the request head", {}, {.request_head = act::respond}},
      {"last answers on the request head", {}, {}, {.request_head = act::respond}},
      {"answer on the request body", {}, {.request_body = act::respond}},
      {"answer on the response head", {}, {.response_head = act::respond}},
      {"first answers on the response head", {.response_head = act::respond}},
      {"answer on the response body", {}, {}, {.response_body = act::respond}},
      {"suspend then answer on the request head", {}, {.request_head = act::post_respond}},
      {"suspend then answer on the response head", {.response_head = act::post_respond}},
      {"suspend then answer on the request body", {}, {}, {.request_body = act::post_respond}},
      {"suspend then answer on the response body", {}, {.response_body = act::post_respond}},
      {"suspend everywhere",
       {act::post, act::timer, act::post, act::timer},
       {act::timer, act::post, act::timer, act::post},
       {act::post, act::post, act::post, act::post}},
      {"suspend before an answer",
       {.request_head = act::timer},
       {},
       {.request_head = act::respond}},
      {"suspend after an answer in the response direction",
       {.response_head = act::post},
       {},
       {.response_head = act::respond}},
  };

  for (const scenario& s : scenarios) {
    CAPTURE(s.name);
    probe_kit::trace log;
    probe pa{"A", &log, s.a, true};
    probe pb{"B", &log, s.b, false};
    probe pc{"C", &log, s.c, true};

    chain dynamic;
    dynamic.add(pa).add(headers_config{transform}).add(pb).add(pc);
    const static_chain<probe, headers, probe, probe> fixed{pa, headers{transform}, pb, pc};

    auto expected = run_once(dynamic, log, s.with_bodies);
    auto actual = run_once(fixed, log, s.with_bodies);
    CHECK(expected == actual);
    CHECK(expected.find("A:log") != std::string::npos);  // log ran in both

    // A static chain as one element of a chain (as a gateway serves it): whole, or among
    // other policies, so that an answer's response depth falls inside or outside it.
    const chain whole{fixed};
    chain middle;
    middle.add(pa).add(static_chain<headers, probe>{headers{transform}, pb}).add(pc);
    chain front;
    front.add(static_chain<probe, headers>{pa, headers{transform}}).add(pb).add(pc);
    chain back;
    back.add(pa).add(headers_config{transform}).add(static_chain{pb, pc});
    CHECK(whole.size() == 4);
    CHECK(middle.size() == 4);
    CHECK(run_once(whole, log, s.with_bodies) == expected);
    CHECK(run_once(middle, log, s.with_bodies) == expected);
    CHECK(run_once(front, log, s.with_bodies) == expected);
    CHECK(run_once(back, log, s.with_bodies) == expected);
  }
}

TEST_CASE("policy parity: a mock behind transforms, both ways") {
  probe_kit::trace log;
  const direct_response_config mock{
      .status = static_cast<status>(201), .headers = {}, .body = "{}"};
  chain dynamic;
  dynamic.add(headers_config{transform}).add(probe{"P", &log}).add(mock);
  const static_chain<headers, probe, direct_response> fixed{headers_config{transform},
                                                            probe{"P", &log}, mock};
  auto expected = run_once(dynamic, log, true);
  auto actual = run_once(fixed, log, true);
  CHECK(expected == actual);
  CHECK(run_once(chain{fixed}, log, true) == expected);
  CHECK(expected.find("< local 201") != std::string::npos);
  CHECK(expected.find("< X-Path: /users/7") != std::string::npos);
}
