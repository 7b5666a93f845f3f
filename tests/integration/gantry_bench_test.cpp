// gantry-bench as a user runs it: on an example configuration, on a route named or matched,
// with bodies, and with what it refuses.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/deadline.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace gantry::testing;
using namespace std::chrono_literals;

command_result run_bench(std::vector<std::string> args) {
  args.insert(args.begin(), GANTRY_TEST_GANTRY_BENCH);
  args.insert(args.end(), {"--exchanges", "2000"});
  return run_command({.argv = args, .env = {}, .pass_fds = {}}, after(60s));
}

const std::string observability = std::string{GANTRY_TEST_EXAMPLES_CONFIG} + "/observability.yaml";

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("gantry-bench: the matched route's chain, each policy's phases, and only the report") {
  const auto r = run_bench({observability, "--path", "/users/7"});
  INFO(r.out);
  INFO(r.err);
  REQUIRE(r.status.ok());
  CHECK(has(r.out, "route \"users\" (4 policies); GET /users/7"));
  CHECK(has(r.out, "2000 exchanges per pass; the last answered 200 by the upstream"));
  CHECK(has(r.out, "  with the chain"));
  CHECK(has(r.out, "  no policy (the flow alone)"));
#if !defined(__SANITIZE_ADDRESS__)  // the sanitizer owns operator new: no count then
  CHECK(has(r.out, "allocations per exchange:"));
#endif
  // The listener's policies by their configured names, each phase they implement.
  for (std::string_view line : {"access-log ", "ids ", "metrics ", "server-header "})
    CHECK(has(r.out, line));
  CHECK(has(r.out, "request_head"));
  CHECK(has(r.out, "log"));
  // The access log writes to stdout: none of its lines reach the report.
  CHECK_FALSE(has(r.out, "\"request_id\""));
}

TEST_CASE("gantry-bench: a route by name, a policy's answer, bodies in pieces") {
  // The metrics route's endpoint policy answers requests for localhost.
  const auto metrics = run_bench(
      {observability, "--route", "metrics", "--path", "/metrics", "--header", "Host: localhost"});
  INFO(metrics.out);
  REQUIRE(metrics.status.ok());
  CHECK(has(metrics.out, "route \"metrics\" (5 policies)"));
  CHECK(has(metrics.out, "the last answered 200 locally"));

  // A route that answers itself, and a request no route matches (the gateway's 404).
  const auto health = run_bench({observability, "--path", "/healthz"});
  INFO(health.out);
  REQUIRE(health.status.ok());
  CHECK(has(health.out, "the route answers 200 itself"));
  CHECK(has(health.out, "the last answered 200 locally"));
  const auto nothing = run_bench({observability, "--path", "/nothing"});
  INFO(nothing.out);
  REQUIRE(nothing.status.ok());
  CHECK(has(nothing.out, "route (none matched)"));
  CHECK(has(nothing.out, "the last answered 404"));

  const auto bodies = run_bench({observability, "--path", "/users/7", "--method", "GET",
                                 "--response-body", "40000", "--piece", "16384"});
  INFO(bodies.out);
  REQUIRE(bodies.status.ok());
  CHECK(has(bodies.out, "response body 40000 B"));
}

TEST_CASE("gantry-bench: a route of a named listener, with that listener's policies") {
  const std::string listeners = std::string{GANTRY_TEST_EXAMPLES_CONFIG} + "/listeners.yaml";
  const auto internal =
      run_bench({listeners, "--listener", "internal", "--method", "POST", "--path", "/reindex"});
  INFO(internal.err);
  CHECK(internal.status.ok());
  CHECK(has(internal.out, "route \"reindex\" (2 policies); POST /reindex"));
  CHECK(has(internal.out, "audit-log"));
  // The same request on the top-level routes matches none of them.
  const auto top = run_bench({listeners, "--method", "POST", "--path", "/reindex"});
  CHECK(has(top.out, "route (none matched)"));
  CHECK_FALSE(has(top.out, "audit-log"));
}

TEST_CASE("gantry-bench: what it refuses, with the reason and exit 1") {
  temp_dir dir{"bench"};
  const auto bad = dir.write("bad.yaml", "routes:\n  - name: x\n    clusterr: y\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{observability, "--route", "nope"}, "no route is named \"nope\""},
      {{observability, "--listener", "internal"}, "no listener is named \"internal\""},
      {{observability, "--path", "/a b"}, "not valid HTTP"},
      {{observability, "--exchanges", "many"}, "--exchanges expects a number"},
      {{observability, "--status", "101"}, "--status must be a final status"},
      {{bad.string()}, bad.string() + ":3:"},
      {{}, "which configuration file?"},
  };
  for (const auto& [args, reason] : cases) {
    const auto r = run_bench(args);
    CAPTURE(reason);
    INFO(r.err);
    CHECK(r.status.exited);
    CHECK(r.status.code == 1);
    CHECK(has(r.err, reason));
  }
}
