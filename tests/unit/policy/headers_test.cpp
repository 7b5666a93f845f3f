#include "gantry/policy/headers.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "gantry/policy/chain.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/runner.hpp"

using gantry::http::status;
using gantry::policy::chain;
using gantry::policy::headers;
using gantry::policy::headers_config;
using gantry::policy::verdict;
using gantry::testing::exchange_builder;

namespace {

std::vector<std::string> fields(const gantry::http::headers& h) {
  std::vector<std::string> out;
  for (auto f : h) out.push_back(std::string{f.name} + ": " + std::string{f.value});
  return out;
}

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("policy headers: remove, rename, set, add on the request, in that order") {
  chain c;
  c.add(headers_config{.request = {.remove = {"X-Internal"},
                                   .rename = {{"X-Old", "X-New"}},
                                   .set = {{"Accept", "application/json"}},
                                   .add = {{"X-Added", "1"}, {"X-New", "added"}}}});
  auto ex = exchange_builder{}
                .header("X-Old", "a")
                .header("Accept", "text/html")
                .header("x-internal", "secret")
                .header("X-Old", "b")
                .header("accept", "*/*")
                .build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.request_head == verdict::continue_);
  CHECK(fields(r.upstream_request.fields) ==
        strings{"Accept: application/json", "X-New: a", "X-New: b", "X-Added: 1", "X-New: added"});
}

TEST_CASE("policy headers: response edits apply to upstream and local responses") {
  headers_config config{.response = {.remove = {"Server"},
                                     .rename = {{"X-Upstream-Time", "X-Time"}},
                                     .set = {{"Cache-Control", "no-store"}},
                                     .add = {{"Via", "gantry"}}}};
  chain c;
  c.add(config);
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(
      c, ex,
      {.status = status::ok,
       .headers = {{"Server", "nginx"}, {"X-Upstream-Time", "3"}, {"Cache-Control", "max-age=9"}},
       .body = {}});
  CHECK(fields(r.response.fields) ==
        strings{"Cache-Control: no-store", "X-Time: 3", "Via: gantry"});

  chain local;
  local.add(config).add(gantry::policy::direct_response_config{
      .status = status::ok, .headers = {{"Server", "mock"}}, .body = "m"});
  auto ex2 = exchange_builder{}.build();
  auto r2 = gantry::testing::run(local, ex2);
  CHECK(r2.local);
  CHECK(fields(r2.response.fields) == strings{"Content-Type: text/plain; charset=utf-8",
                                              "Cache-Control: no-store", "Via: gantry"});
}

TEST_CASE("policy headers: values are templates over params and request fields") {
  chain c;
  c.add(headers_config{
      .request = {.set = {{"X-User", "{id}"},
                          {"X-Line", "{method} {path} ? {query}"},
                          {"X-From", "{header.X-Client}@{host}"},
                          {"X-Who", "{consumer}/{param.id}/{target}"},
                          {"X-Braces", "{{literal}} {missing} {header.X-Missing}!"}}},
      .response = {.add = {{"X-Echo", "{header.X-User}"}}}});
  auto ex = exchange_builder{}
                .method(gantry::http::method::post)
                .target("/v2/users/7?verbose=1")
                .header("Host", "api.example.com")
                .header("X-Client", "cli")
                .param("id", "7")
                .consumer("acme")
                .build();
  auto r = gantry::testing::run(c, ex);
  const auto& h = r.upstream_request.fields;
  CHECK(h.get("X-User") == "7");
  CHECK(h.get("X-Line") == "POST /v2/users/7 ? verbose=1");
  CHECK(h.get("X-From") == "cli@api.example.com");
  CHECK(h.get("X-Who") == "acme/7//v2/users/7?verbose=1");
  CHECK(h.get("X-Braces") == "{literal}  !");
  // The response direction reads the request as the policies left it.
  CHECK(r.response.fields.get("X-Echo") == "7");
}

TEST_CASE("policy headers: a template that would inject CR, LF or NUL is refused at run time") {
  chain c;
  c.add(headers_config{.request = {.set = {{"X-User", "{id}"}}},
                       .response = {.set = {{"X-Consumer", "{consumer}"}, {"X-Ok", "yes"}}}});
  for (std::string bad :
       {std::string{"7\r\nX-Admin: 1"}, std::string{"7\n"}, std::string{"7\0x", 3}}) {
    CAPTURE(bad);
    auto ex = exchange_builder{}.param("id", bad).build();
    auto r = gantry::testing::run(c, ex);
    CHECK(r.request_head == verdict::respond);
    CHECK_FALSE(r.forwarded);
    CHECK(r.response.status == status::bad_request);
  }
  // In the response direction the one edit is skipped; the others apply.
  auto ex = exchange_builder{}.param("id", "7").consumer("evil\r\nSet-Cookie: x").build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.forwarded);
  CHECK(r.response_head == verdict::continue_);
  CHECK_FALSE(r.response.fields.contains("X-Consumer"));
  CHECK(r.response.fields.get("X-Ok") == "yes");
}

TEST_CASE("policy headers: configuration errors are all reported with their field paths") {
  headers_config bad{
      .request = {.remove = {"Bad Name"},
                  .rename = {{"X-A", "x-a"}, {"Content-Length", "X-Length"}},
                  .set = {{"X-Split", "a\r\nb"}, {"X-Open", "{id"}, {"X-Close", "a}"}},
                  .add = {{"X-Empty", "{}"}, {"X-Header", "{header.}"}, {"", "v"}}},
      .response = {.set = {{"Transfer-Encoding", "chunked"}, {"X-Nul", std::string{"a\0", 2}}}}};
  try {
    headers h{bad};
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    CAPTURE(what);
    for (const char* path :
         {"request.remove[0]:", "request.rename[0]:", "request.rename[1].from:",
          "request.set[0].value: contains CR, LF or NUL", "request.set[1].value: unclosed",
          "request.set[2].value: unmatched", "request.add[0].value:", "request.add[1].value:",
          "request.add[2].name:", "response.set[0].name: framing",
          "response.set[1].value: contains CR, LF or NUL"}) {
      CHECK_MESSAGE(what.find(path) != std::string::npos, path);
    }
  }
}

TEST_CASE("policy headers: a direction with no edits is never called by a chain") {
  using gantry::policy::phase;
  chain responses_only;
  responses_only.add(headers_config{.request = {}, .response = {.set = {{"X-A", "1"}}}});
  CHECK_FALSE(responses_only.has_phase(phase::request_head));
  CHECK(responses_only.has_phase(phase::response_head));
  chain requests_only;
  requests_only.add(headers_config{.request = {.set = {{"X-B", "2"}}}, .response = {}});
  CHECK(requests_only.has_phase(phase::request_head));
  CHECK_FALSE(requests_only.has_phase(phase::response_head));
  // And they still do what they are configured to.
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(responses_only, ex);
  CHECK(r.response.fields.get("X-A") == "1");
  auto ex2 = exchange_builder{}.build();
  CHECK(gantry::testing::run(requests_only, ex2).upstream_request.fields.get("X-B") == "2");
}
