#include "gantry/policy/request_id.hpp"

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "gantry/policy/chain.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/runner.hpp"

using gantry::policy::chain;
using gantry::policy::request_id;
using gantry::policy::request_id_config;
using gantry::testing::exchange_builder;

namespace {

bool is_hex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string field(const gantry::http::headers& h, std::string_view name) {
  return std::string{h.get(name).value_or("<none>")};
}

constexpr std::string_view valid_parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

}  // namespace

TEST_CASE("policy request_id: a new id is 32 hex digits, upstream and on the response") {
  chain c;
  c.add(request_id_config{});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(c, ex);
  auto id = field(r.upstream_request.fields, "X-Request-Id");
  CHECK(id.size() == 32);
  CHECK(is_hex(id));
  CHECK(field(r.response.fields, "X-Request-Id") == id);

  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    auto e = exchange_builder{}.build();
    ids.insert(field(gantry::testing::run(c, e).upstream_request.fields, "X-Request-Id"));
  }
  CHECK(ids.size() == 1000);
}

TEST_CASE("policy request_id: a well-formed incoming id is kept") {
  chain c;
  c.add(request_id_config{});
  auto ex = exchange_builder{}.header("x-request-id", "client-id-42").build();
  auto r = gantry::testing::run(c, ex);
  CHECK(field(r.upstream_request.fields, "X-Request-Id") == "client-id-42");
  CHECK(r.upstream_request.fields.count("X-Request-Id") == 1);
  CHECK(field(r.response.fields, "X-Request-Id") == "client-id-42");
}

TEST_CASE("policy request_id: an incoming id is replaced when malformed, repeated or distrusted") {
  struct row {
    const char* what;
    std::vector<std::string> ids;
    request_id_config config;
  };
  const row rows[] = {
      {"with a space", {"a b"}, {}},
      {"empty", {""}, {}},
      {"too long", {std::string(129, 'a')}, {}},
      {"longer than configured", {"abcdef"}, {.max_length = 5}},
      {"non-ASCII", {"caf\xc3\xa9"}, {}},
      {"twice", {"one", "two"}, {}},
      {"distrusted", {"fine"}, {.keep_incoming = false}},
  };
  for (const row& r : rows) {
    CAPTURE(r.what);
    chain c;
    c.add(r.config);
    exchange_builder b;
    for (const auto& id : r.ids) b.header("X-Request-Id", id);
    auto ex = b.build();
    auto result = gantry::testing::run(c, ex);
    CHECK(result.upstream_request.fields.count("X-Request-Id") == 1);
    auto id = field(result.upstream_request.fields, "X-Request-Id");
    CHECK(id.size() == 32);
    CHECK(is_hex(id));
  }
}

TEST_CASE("policy request_id: a custom header, and no echo when asked") {
  chain c;
  c.add(request_id_config{.header = "X-Correlation-Id", .echo = false});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.upstream_request.fields.contains("X-Correlation-Id"));
  CHECK_FALSE(r.upstream_request.fields.contains("X-Request-Id"));
  CHECK_FALSE(r.response.fields.contains("X-Correlation-Id"));
}

TEST_CASE("policy request_id: a valid traceparent is propagated with a new parent id") {
  chain c;
  c.add(request_id_config{});
  auto ex = exchange_builder{}
                .header("traceparent", valid_parent)
                .header("tracestate", "vendor=1")
                .build();
  auto r = gantry::testing::run(c, ex);
  auto tp = field(r.upstream_request.fields, "traceparent");
  REQUIRE(tp.size() == 55);
  CHECK(request_id::is_valid_traceparent(tp));
  CHECK(tp.substr(0, 36) == std::string{valid_parent.substr(0, 36)});    // version, trace id
  CHECK(tp.substr(36, 16) != std::string{valid_parent.substr(36, 16)});  // a new parent
  CHECK(tp.substr(52) == "-01");                                         // same flags
  CHECK(field(r.upstream_request.fields, "tracestate") == "vendor=1");
}

TEST_CASE("policy request_id: a later traceparent version is understood and sent as 00") {
  chain c;
  c.add(request_id_config{});
  auto ex =
      exchange_builder{}
          .header("traceparent", "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra")
          .build();
  auto tp = field(gantry::testing::run(c, ex).upstream_request.fields, "traceparent");
  CHECK(tp.substr(0, 35) == "00-4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(tp.substr(52) == "-00");
}

TEST_CASE("policy request_id: a missing or invalid traceparent starts a new trace") {
  const std::string invalid[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",     // short
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 with extra
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // forbidden version
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // wrong separator
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   // later, no dash
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    // not hex
  };
  for (const auto& value : invalid) {
    CAPTURE(value);
    CHECK_FALSE(request_id::is_valid_traceparent(value));
    chain c;
    c.add(request_id_config{.sample_new_traces = true});
    auto ex = exchange_builder{}.header("traceparent", value).header("tracestate", "a=b").build();
    auto r = gantry::testing::run(c, ex);
    auto tp = field(r.upstream_request.fields, "traceparent");
    CHECK(request_id::is_valid_traceparent(tp));
    CHECK(tp.substr(3, 32) != "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(tp.substr(52) == "-01");
    CHECK_FALSE(r.upstream_request.fields.contains("tracestate"));
  }

  chain c;
  c.add(request_id_config{});
  auto ex = exchange_builder{}
                .header("traceparent", valid_parent)
                .header("traceparent", valid_parent)
                .build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.upstream_request.fields.count("traceparent") == 1);  // two fields: a new trace
  CHECK(field(r.upstream_request.fields, "traceparent").substr(3, 32) !=
        "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(field(r.upstream_request.fields, "traceparent").substr(52) == "-00");

  chain off;
  off.add(request_id_config{.trace_context = false});
  auto plain = exchange_builder{}.build();
  CHECK_FALSE(gantry::testing::run(off, plain).upstream_request.fields.contains("traceparent"));
}

TEST_CASE("policy request_id: the id reaches a local response from a later policy") {
  chain c;
  c.add(request_id_config{}).add(gantry::policy::direct_response_config{.body = "hi"});
  auto ex = exchange_builder{}.header("X-Request-Id", "abc").build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.local);
  CHECK(field(r.response.fields, "X-Request-Id") == "abc");
}

TEST_CASE("policy request_id: configuration errors are all reported") {
  try {
    request_id bad{{.header = "Bad Header", .max_length = 0}};
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    CHECK(what.find("request_id policy") != std::string::npos);
    CHECK(what.find("header:") != std::string::npos);
    CHECK(what.find("max_length:") != std::string::npos);
  }
  CHECK_THROWS_AS(request_id({.header = "Content-Length"}), std::invalid_argument);
  CHECK_THROWS_AS(request_id({.max_length = 129}), std::invalid_argument);
}
