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

namespace {

// Trailers phases that log, tag the trailers and answer or suspend as told.
struct trailer_probe {
  std::string name;
  probe_kit::trace* log = nullptr;
  act request = act::pass;
  act response = act::pass;

  gantry::policy::outcome on_request_trailers(gantry::policy::exchange& ex) const {
    ex.request_trailers.add("X-By", name);
    return step("request_trailers", request, ex);
  }
  gantry::policy::outcome on_response_trailers(gantry::policy::exchange& ex) const {
    ex.response_trailers.add("X-By", name);
    return step("response_trailers", response, ex);
  }

 private:
  gantry::policy::outcome step(const char* phase, act a, gantry::policy::exchange& ex) const {
    const std::string label = name + ":" + phase;
    log->push_back(label);
    if (a == act::pass) return gantry::policy::verdict::continue_;
    if (a == act::respond) return ex.respond(status::forbidden, "from " + name, "text/plain");
    return probe_kit::suspend(a, ex, label, name, log);
  }
};

}  // namespace

TEST_CASE("policy parity: trailers phases, static_chain and chain alike") {
  struct trailer_scenario {
    const char* name;
    act a_request, a_response, b_request, b_response;
  };
  const trailer_scenario scenarios[] = {
      {"all continue", act::pass, act::pass, act::pass, act::pass},
      {"the second answers on the request trailers", act::pass, act::pass, act::respond, act::pass},
      {"the first answers on the response trailers", act::pass, act::respond, act::pass, act::pass},
      {"suspend, then answer", act::post, act::pass, act::post_respond, act::timer},
  };
  for (const trailer_scenario& s : scenarios) {
    CAPTURE(s.name);
    probe_kit::trace log;
    const trailer_probe a{"A", &log, s.a_request, s.a_response};
    const trailer_probe b{"B", &log, s.b_request, s.b_response};
    chain dynamic;
    dynamic.add(a).add(b);
    const static_chain<trailer_probe, trailer_probe> fixed{a, b};
    auto expected = run_once(dynamic, log, true);
    CHECK(run_once(fixed, log, true) == expected);
    chain mixed;
    mixed.add(a).add(static_chain<trailer_probe>{b});
    CHECK(run_once(mixed, log, true) == expected);
    CHECK(expected.find("A:request_trailers") != std::string::npos);
  }
}

TEST_CASE("policy parity: a static_chain's own trailers entry points, called directly") {
  probe_kit::trace log;
  const static_chain<trailer_probe, trailer_probe> fixed{
      trailer_probe{"A", &log}, trailer_probe{"B", &log, act::pass, act::respond}};
  auto ex = exchange_builder{}.build();
  auto request = fixed.run_request_trailers(*ex);
  REQUIRE(request.ready());
  CHECK(request.value() == gantry::policy::verdict::continue_);
  CHECK(ex->request_trailers.count("X-By") == 2);
  auto response = fixed.run_response_trailers(*ex);
  REQUIRE(response.ready());
  CHECK(response.value() == gantry::policy::verdict::respond);  // B, which runs first
  CHECK(log == probe_kit::trace{"A:request_trailers", "B:request_trailers", "B:response_trailers"});
}
