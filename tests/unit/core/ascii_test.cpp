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

TEST_CASE("tokens are exactly RFC 9110's tchar: letters, digits and !#$%&'*+-.^_`|~") {
  const std::string_view specials = "!#$%&'*+-.^_`|~";
  int allowed = 0;
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool expected = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
                          (b >= 'A' && b <= 'Z') || specials.find(c) != std::string_view::npos;
    CAPTURE(b);
    CHECK(is_tchar(c) == expected);
    CHECK(is_token(std::string_view{&c, 1}) == expected);
    allowed += expected ? 1 : 0;
  }
  CHECK(allowed == 10 + 26 + 26 + 15);
  CHECK(is_token("X-Request-Id"));
  CHECK_FALSE(is_token(""));
  CHECK_FALSE(is_token("X-Request Id"));
  CHECK_FALSE(is_token("Host:"));
  static_assert(is_token("gzip") && !is_token("a\"b"));  // usable in constant expressions
}
