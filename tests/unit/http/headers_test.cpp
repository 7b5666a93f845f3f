#include "gantry/http/headers.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using gantry::http::field;
using gantry::http::headers;

TEST_CASE("headers keep order and repeated fields, and look up case-insensitively") {
  headers h;
  h.add("Accept", "text/html");
  h.add("Host", "example.com");
  h.add("accept", "application/json");

  CHECK(h.size() == 3);
  CHECK(h.count("ACCEPT") == 2);
  CHECK(h.get("accept") == "text/html");
  CHECK(h.get("HOST") == "example.com");
  CHECK_FALSE(h.get("Cookie").has_value());

  std::vector<std::string> names;
  for (field f : h) names.emplace_back(f.name);
  CHECK(names == std::vector<std::string>{"Accept", "Host", "accept"});

  SUBCASE("set replaces every field of the name at the first one's place") {
    h.set("ACCEPT", "*/*");
    CHECK(h.size() == 2);
    CHECK(h.count("accept") == 1);
    CHECK((*h.begin()).value == "*/*");
  }
  SUBCASE("set with a longer value") {
    h.set("Host", "a-much-longer-host.example.com");
    CHECK(h.get("host") == "a-much-longer-host.example.com");
    CHECK(h.get("Accept") == "text/html");
  }
  SUBCASE("erase removes every field of the name") {
    CHECK(h.erase("accept") == 2);
    CHECK(h.size() == 1);
    CHECK(h.erase("accept") == 0);
  }
  SUBCASE("clear empties the container") {
    h.clear();
    CHECK(h.empty());
    CHECK(h.begin() == h.end());
  }
}
