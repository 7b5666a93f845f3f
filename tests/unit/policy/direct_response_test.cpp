#include "gantry/policy/direct_response.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "gantry/policy/chain.hpp"
#include "gantry/policy/static_chain.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/runner.hpp"

using gantry::http::status;
using gantry::policy::chain;
using gantry::policy::direct_response;
using gantry::policy::direct_response_config;
using gantry::testing::exchange_builder;

TEST_CASE("policy direct_response: answers with its status, fields and inline body") {
  chain c;
  c.add(direct_response_config{.status = status::too_many_requests,
                               .headers = {{"Retry-After", "5"}, {"Content-Type", "text/x-mock"}},
                               .body = "slow down\n"});
  auto ex = exchange_builder{}.body("ignored").build();
  auto r = gantry::testing::run(c, ex, {.status = status::ok, .headers = {}, .body = {"up"}});
  CHECK(r.request_head == gantry::policy::verdict::respond);
  CHECK_FALSE(r.forwarded);
  CHECK(r.local);
  CHECK(r.response.status == status::too_many_requests);
  CHECK(r.response.fields.get("Retry-After") == "5");
  CHECK(r.response.fields.count("Content-Type") == 1);
  CHECK(r.response.fields.get("Content-Type") == "text/x-mock");
  CHECK(r.body == "slow down\n");
}

TEST_CASE("policy direct_response: an empty 204 has no Content-Type") {
  gantry::policy::static_chain<direct_response> c{
      direct_response_config{.status = status::no_content}};
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.response.status == status::no_content);
  CHECK(r.response.fields.empty());
  CHECK(r.body.empty());
}

TEST_CASE("policy direct_response: the body can come from a file, read once when built") {
  auto path = std::filesystem::temp_directory_path() / "gantry_direct_response_test.json";
  {
    std::ofstream out{path, std::ios::binary};
    out << R"({"users":[]})";
  }
  direct_response policy{{.body_file = path.string()}};
  std::filesystem::remove(path);  // read at configuration time: the file is no longer needed
  CHECK(policy.body() == R"({"users":[]})");

  chain c;
  c.add(std::move(policy));
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.body == R"({"users":[]})");
  CHECK(r.response.fields.get("Content-Type") == "application/json");
}

TEST_CASE("policy direct_response: a body file may be as large as max_body_file_size") {
  auto path = std::filesystem::temp_directory_path() / "gantry_direct_response_large.bin";
  constexpr auto limit = gantry::policy::direct_response_config::max_body_file_size;
  std::filesystem::remove(path);
  {
    std::ofstream out{path, std::ios::binary};
    out << "head";
  }
  std::filesystem::resize_file(path, limit);
  direct_response at_limit{{.body_file = path.string()}};
  CHECK(at_limit.body().size() == limit);
  CHECK(at_limit.body().starts_with("head"));
  std::filesystem::resize_file(path, limit + 1);
  CHECK_THROWS_WITH_AS(direct_response({.body_file = path.string()}),
                       doctest::Contains("larger than 16777216 bytes"),
                       std::invalid_argument);
  std::filesystem::remove(path);
}

TEST_CASE("policy direct_response: configuration errors are all reported") {
  try {
    direct_response bad{{.status = status::not_modified,
                         .headers = {{"Content-Length", "3"}, {"X-Bad", "a\nb"}},
                         .body = "abc"}};
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    CAPTURE(what);
    CHECK(what.find("headers[0].name") != std::string::npos);
    CHECK(what.find("headers[1].value") != std::string::npos);
    CHECK(what.find("304 response has no body") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(direct_response({.body_file = "/nonexistent/gantry/mock.json"}),
                       doctest::Contains("cannot read '/nonexistent/gantry/mock.json'"),
                       std::invalid_argument);
  CHECK_THROWS_AS(direct_response({.body = "a", .body_file = "b"}), std::invalid_argument);
  // Would never end, or is not a body: refused before being read.
  CHECK_THROWS_WITH_AS(direct_response({.body_file = "/dev/zero"}),
                       doctest::Contains("cannot read '/dev/zero': larger than 16777216 bytes"),
                       std::invalid_argument);
  const auto directory = std::filesystem::temp_directory_path().string();
  const std::string not_a_file = "cannot read '" + directory + "': is a directory";
  CHECK_THROWS_WITH_AS(direct_response({.body_file = directory}),
                       doctest::Contains(not_a_file.c_str()), std::invalid_argument);
  CHECK_THROWS_AS(direct_response({.status = gantry::http::status::continue_}),
                  std::invalid_argument);
}
