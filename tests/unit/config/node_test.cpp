#include "gantry/config/node.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "config/config_test_support.hpp"
#include "gantry/config/load.hpp"
#include "gantry/policy/verdict.hpp"

using namespace std::chrono_literals;
using config_test::problems;
using gantry::config::node;

namespace {

struct no_op {
  gantry::policy::verdict on_request_head(gantry::policy::exchange&) const {
    return gantry::policy::verdict::continue_;
  }
};

// Options whose "probe" policy type hands its config node to `read`.
gantry::config::load_options probe(std::function<void(const node&)> read) {
  gantry::config::load_options options;
  options.policies.add("probe", [read](const node& n, const gantry::config::policy_context&) {
    read(n);
    return gantry::policy::chain{}.add(no_op{});
  });
  return options;
}

// A document with one "probe" policy whose config is `config`.
std::string with_config(std::string_view config) {
  std::string text = "policies:\n  - name: p\n    type: probe\n    config: ";
  text.append(config);
  text.append("\nclusters: [{name: c, endpoints: ['10.0.0.1:80']}]\n");
  return text;
}

// What `as_duration` makes of `text`, or nothing (and `problem`) when it refuses it.
std::optional<std::chrono::milliseconds> duration(std::string_view text, std::string* problem) {
  std::optional<std::chrono::milliseconds> out;
  *problem = problems(with_config(text), probe([&](const node& n) { out = n.as_duration(); }));
  return out;
}

}  // namespace

TEST_CASE("config node: durations") {
  std::string problem;
  CHECK(duration("250ms", &problem) == 250ms);
  CHECK(duration("10s", &problem) == 10s);
  CHECK(duration("1m", &problem) == 1min);
  CHECK(duration("2h", &problem) == 2h);
  CHECK(duration("1m30s", &problem) == 90s);
  CHECK(duration("1h1m1s1ms", &problem) == 3'661'001ms);
  CHECK(duration("0", &problem) == 0ms);
  CHECK(duration("0s", &problem) == 0ms);
  CHECK(problem.empty());
  for (std::string_view bad : {"", "s", "10", "1.5s", "10 s", "-1s", "10sec", "1d", "ms", "1s ",
                               "99999999999999999999ms", "9999999999999h"}) {
    CAPTURE(bad);
    std::string quoted = "'";
    quoted.append(bad);
    quoted.append("'");
    CHECK_FALSE(duration(quoted, &problem));
    CHECK(problem.find("policies[0].config: bad duration") != std::string::npos);
  }
}

TEST_CASE("config node: integers, booleans, strings and byte sizes") {
  struct read_values {
    std::uint16_t port = 0;
    std::int8_t small = 0;
    bool flag = false;
    std::string text;
    std::uint64_t size = 0;
    std::vector<std::string> list;
  } v;
  auto options = probe([&](const node& n) {
    n.expect_map({"port", "small", "flag", "text", "size", "list"});
    n["port"].read(v.port);
    n["small"].read(v.small);
    n["flag"].read(v.flag);
    n["text"].read(v.text);
    if (auto s = n["size"].as_byte_size()) v.size = *s;
    n["list"].read(v.list);
  });
  CHECK(problems(with_config("{port: 8080, small: -128, flag: true, text: 42, size: 2MiB, "
                             "list: [a, 'b', 3]}"),
                 options) == "");
  CHECK(v.port == 8080);
  CHECK(v.small == -128);
  CHECK(v.flag);
  CHECK(v.text == "42");
  CHECK(v.size == 2 * 1024 * 1024);
  CHECK(v.list == std::vector<std::string>{"a", "b", "3"});

  CHECK(problems(with_config("{port: 65536, small: 128, flag: yes, size: 1.5KB, list: [[a]]}"),
                 options) ==
        "t.yaml:4:20: policies[0].config.port: must be from 0 to 65535, got 65536\n"
        "t.yaml:4:34: policies[0].config.small: must be from -128 to 127, got 128\n"
        "t.yaml:4:45: policies[0].config.flag: expected true or false, got 'yes'\n"
        "t.yaml:4:56: policies[0].config.size: bad byte size '1.5KB': write a whole number of "
        "bytes, optionally with a unit (KiB, MiB, GiB, KB, MB, GB), e.g. 64KiB\n"
        "t.yaml:4:70: policies[0].config.list[0]: expected a string, got a list");
  // The values that failed were left as they were.
  CHECK(v.port == 8080);
  CHECK(v.small == -128);
}

TEST_CASE("config node: paths, positions and presence") {
  std::vector<std::string> seen;
  auto options = probe([&](const node& n) {
    seen.push_back(n.path() + "@" + std::to_string(n.line()) + ":" + std::to_string(n.column()));
    CHECK(n.is_map());
    const node list = n["list"];
    CHECK(list.is_list());
    for (const node& item : list.items())
      seen.push_back(item.path() + "@" + std::to_string(item.line()) + ":" +
                     std::to_string(item.column()));
    const node missing = n["missing"];
    CHECK_FALSE(missing.present());
    CHECK(missing.path() == "policies[0].config.missing");
    CHECK(missing.line() == n.line());  // where it would be
    CHECK(n["empty"].present());
    CHECK(n["empty"].is_null());
    CHECK(n["empty"].items().empty());
    for (auto& [key, value] : n["map"].entries()) seen.push_back(key + "=" + *value.as_string());
  });
  CHECK(problems(with_config("\n      list: [a, b]\n      empty:\n      map: {x: 1, y: 2}"),
                 options) == "");
  CHECK(seen == std::vector<std::string>{"policies[0].config@5:7",
                                         "policies[0].config.list[0]@5:14",
                                         "policies[0].config.list[1]@5:17", "x=1", "y=2"});
}

TEST_CASE("config node: one_of, required, fail and fail_at") {
  auto options = probe([](const node& n) {
    n.expect_map({"a", "b", "deep"});
    n.one_of({"a", "b"});
    n.required("needed");
    n["deep"].fail_at("list[1].x", "is wrong");
    n["deep"].fail_at("list[7].x", "is not there at all");
    n.fail("the whole policy is wrong");
  });
  CHECK(problems(with_config("{a: 1, b: 2, deep: {list: [{x: 1}, {x: 2}]}}"), options) ==
        "t.yaml:4:13: policies[0].config.needed: required field is missing\n"
        "t.yaml:4:13: policies[0].config: the whole policy is wrong\n"
        "t.yaml:4:20: policies[0].config.b: give only one of a or b; 'a' is given already\n"
        "t.yaml:4:39: policies[0].config.deep.list[7].x: is not there at all\n"
        "t.yaml:4:52: policies[0].config.deep.list[1].x: is wrong");
}
