#include "gantry/http/headers.hpp"

#include <doctest/doctest.h>

#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
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

TEST_CASE("headers: erase_if keeps every field it did not get to when its predicate throws") {
  headers h;
  h.add("A", "1");
  h.add("B", "2");
  h.add("C", "3");
  h.add("D", "4");
  CHECK(h.writable());
  h.add("Bad Name", "5");
  int calls = 0;
  CHECK_THROWS(h.erase_if([&](field f) {
    if (++calls == 3) throw std::runtime_error{"predicate"};
    return f.name == "A";
  }));
  std::vector<std::string> names;
  for (field f : h) names.emplace_back(f.name);
  CHECK(names == std::vector<std::string>{"B", "C", "D", "Bad Name"});
  CHECK_FALSE(h.writable());  // the bad field is still looked at
  h.erase("Bad Name");
  CHECK(h.writable());
}

TEST_CASE("headers: header_builder marks fields in a head's raw bytes") {
  headers h;
  gantry::http::header_builder b{h};
  b.append_raw("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one \r\n  two\r\n");
  b.add_raw_field(16, 4, 22, 1);
  CHECK(b.last().name == "Host");
  b.add_raw_field(25, 8, 35, 4);  // "one " as the parser reads it, before the fold
  b.continue_value(41, 5);        // "  two"
  b.end_value();
  REQUIRE(h.size() == 2);
  CHECK(h.get("host") == "a");
  CHECK(h.get("X-Folded") == "one   two");
  CHECK(h.writable());
  // Added fields go after the raw bytes and leave the marked ones alone.
  h.add("Via", "gantry");
  h.set("Host", "b");
  CHECK(h.get("Host") == "b");
  CHECK(h.get("X-Folded") == "one   two");
  CHECK(h.get("Via") == "gantry");
}

TEST_CASE("headers: writable() finds any field that could not be written as it is") {
  headers h;
  CHECK(h.writable());
  h.add("Host", "example.com");
  h.add("X-Empty", "");
  CHECK(h.writable());

  SUBCASE("a name that is no token, or CR, LF or NUL in a value, makes it false") {
    for (auto [name, value] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
             {"Bad Name", "v"},
             {"", "v"},
             {"X-Colon:", "v"},
             {"X-Split", "a\r\nInjected: yes"},
             {"X-Lf", "a\nb"},
             {"X-Nul", std::string_view{"a\0b", 3}}}) {
      CAPTURE(name);
      headers copy = h;
      copy.add(name, value);
      CHECK_FALSE(copy.writable());
      auto last = copy.begin();
      std::advance(last, static_cast<std::ptrdiff_t>(copy.size() - 1));
      copy.erase(last);
      CHECK(copy.writable());
      CHECK(copy.size() == 2);
    }
  }
  SUBCASE("set over a bad field, or a bad set over a good one, keeps the count exact") {
    h.add("X-Split", "a\r\nb");
    h.add("x-split", "c\nd");
    CHECK_FALSE(h.writable());
    h.set("X-Split", "clean");  // replaces both
    CHECK(h.writable());
    h.set("Host", "a\rb");
    CHECK_FALSE(h.writable());
    h.set("Host", "b");  // a shorter value, written in place
    CHECK(h.writable());
    CHECK(h.get("Host") == "b");
  }
  SUBCASE("erase by name forgets the bad fields it removes, and only those") {
    h.add("Bad Name", "1");
    h.add("X-Nul", std::string_view{"\0", 1});
    h.add("bad name", "2");
    CHECK(h.erase("BAD NAME") == 2);
    CHECK_FALSE(h.writable());
    CHECK(h.erase("Host") == 1);
    CHECK_FALSE(h.writable());
    CHECK(h.erase("x-nul") == 1);
    CHECK(h.writable());
  }
  SUBCASE("erasing good fields before or after a bad one never hides it") {
    h.add("X-A", "1");
    h.add("Bad Name", "2");
    h.add("X-B", "3");
    CHECK_FALSE(h.writable());
    CHECK(h.erase("Host") == 1);
    CHECK_FALSE(h.writable());
    h.erase(h.begin());  // X-Empty
    CHECK_FALSE(h.writable());
    CHECK(h.erase("X-B") == 1);
    CHECK_FALSE(h.writable());
    h.add("X-Late", "a\nb");
    CHECK(h.erase("bad name") == 1);
    CHECK_FALSE(h.writable());  // X-Late, added after the last look
    CHECK(h.erase("X-Late") == 1);
    CHECK(h.writable());
    CHECK(h.size() == 1);
  }
  SUBCASE("clear forgets everything") {
    h.add("Bad Name", "1");
    h.clear();
    CHECK(h.writable());
  }
}
