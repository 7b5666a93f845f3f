#include "gantry/core/ascii.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace gantry::core;

TEST_CASE("iequals compares ASCII case-insensitively and only ASCII") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("Host", "Hos"));
  CHECK_FALSE(iequals("Host", "Hosu"));
  CHECK_FALSE(iequals("\xc3\x84", "\xc3\xa4"));  // Ä and ä differ: no locale folding
}

TEST_CASE("trim_ows removes spaces and tabs only") {
  CHECK(trim_ows(" \t value \t") == "value");
  CHECK(trim_ows("\r\nv") == "\r\nv");
  CHECK(trim_ows("   ").empty());
}

TEST_CASE("list elements are split on commas, trimmed, and empty ones skipped") {
  std::vector<std::string> seen;
  for_each_list_element(" keep-alive , ,Upgrade,", [&](std::string_view e) {
    seen.emplace_back(e);
    return true;
  });
  CHECK(seen == std::vector<std::string>{"keep-alive", "Upgrade"});
  CHECK(list_contains("keep-alive, Upgrade", "upgrade"));
  CHECK_FALSE(list_contains("keep-alive, Upgrade2", "upgrade"));
  CHECK_FALSE(list_contains("", "close"));
}
