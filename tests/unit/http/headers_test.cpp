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

TEST_CASE("headers: set on an absent name appends, and a shorter value fits in place") {
  headers h;
  h.add("A", "long-value");
  h.set("B", "1");
  CHECK(h.size() == 2);
  std::vector<std::string> names;
  for (field f : h) names.emplace_back(f.name);
  CHECK(names == std::vector<std::string>{"A", "B"});

  h.set("a", "short");
  CHECK(h.get("A") == "short");
  h.set("A", "");
  CHECK(h.get("A") == "");
  CHECK(h.contains("A"));
  CHECK(h.size() == 2);
}

TEST_CASE("headers: erase at an iterator returns the next field") {
  headers h;
  h.add("Keep", "1");
  h.add("Drop", "2");
  h.add("Drop", "3");
  h.add("Keep", "4");
  for (auto it = h.begin(); it != h.end();) {
    if ((*it).name == "Drop") {
      it = h.erase(it);
    } else {
      ++it;
    }
  }
  REQUIRE(h.size() == 2);
  auto it = h.begin();
  CHECK((*it).value == "1");
  auto before = it++;
  CHECK((*before).value == "1");
  CHECK((*it).value == "4");
  CHECK(++it == h.end());
}

TEST_CASE("headers: an empty container") {
  headers h;
  CHECK(h.empty());
  CHECK(h.size() == 0);
  CHECK_FALSE(h.get("A").has_value());
  CHECK(h.count("A") == 0);
  CHECK(h.erase("A") == 0);
  CHECK(h.begin() == h.end());
}

TEST_CASE("headers: names and values may be views into the same container") {
  headers h;
  h.add("Original", "some value worth copying");
  // A long name forces the buffer to grow while the value still points into it.
  const std::string long_name(1000, 'N');
  h.add(long_name, *h.get("Original"));
  CHECK(h.get(long_name) == "some value worth copying");

  h.add("X-Forwarded-For", "10.0.0.1");
  h.set("Via", *h.get("X-Forwarded-For"));
  CHECK(h.get("Via") == "10.0.0.1");

  // set with a name taken from the container itself.
  std::string_view name = (*h.begin()).name;
  h.set(name, std::string(2000, 'v'));
  CHECK(h.get("Original") == std::string(2000, 'v'));
  CHECK(h.count("Original") == 1);

  // And a value that is part of its own field's value.
  h.set("Via", h.get("Via")->substr(3));
  CHECK(h.get("Via") == "0.0.1");
}

TEST_CASE("headers: header_builder assembles fields from fragments") {
  headers h;
  gantry::http::header_builder b{h};
  b.begin_field("Con");
  b.append_name("tent-");
  b.append_name("Type");
  b.begin_value("text/");
  b.append_value("html \t");
  b.end_value();
  b.begin_field("Empty");
  b.end_value();
  b.begin_field("Blank");
  b.begin_value("   ");
  b.end_value();
  b.begin_field("Inner");
  b.begin_value("a  b ");
  b.end_value();

  REQUIRE(h.size() == 4);
  CHECK(h.get("content-type") == "text/html");
  CHECK(h.get("Empty") == "");
  CHECK(h.get("Blank") == "");
  CHECK(h.get("Inner") == "a  b");
  std::vector<std::string> names;
  for (field f : h) names.emplace_back(f.name);
  CHECK(names == std::vector<std::string>{"Content-Type", "Empty", "Blank", "Inner"});
}
