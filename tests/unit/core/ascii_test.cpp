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

TEST_CASE("iequals agrees with a byte-by-byte comparison at every length and position") {
  // Blocks are compared whole: a difference anywhere, in the case of a letter or in a byte
  // that differs from another by the case bit only ('@' and '`', '[' and '{'), must count.
  const std::string alphabet = "aZ-@`[{09\x80\xe0";
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string a;
    for (std::size_t i = 0; i < n; ++i) a.push_back("Content-Length:X-Forwarded-For"[i % 30]);
    for (std::size_t at = 0; at < n; ++at) {
      for (char c : alphabet) {
        std::string b = a;
        b[at] = c;
        const bool expected = ascii_lower(a[at]) == ascii_lower(c);
        CHECK_MESSAGE(iequals(a, b) == expected, "length ", n, " at ", at, " byte ", int(c));
        CHECK(iequals(b, a) == expected);
        std::string upper = b;
        for (char& u : upper) u = (u >= 'a' && u <= 'z') ? static_cast<char>(u - 32) : u;
        CHECK(iequals(upper, b));
      }
    }
  }
  static_assert(iequals("Transfer-Encoding", "transfer-encoding"));
  static_assert(!iequals("Transfer-Encoding", "transfer-encodinG "));
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
