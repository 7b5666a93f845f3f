#include "gantry/route/captures.hpp"

#include <doctest/doctest.h>

#include <string>

using gantry::route::captures;

TEST_CASE("route captures: a fixed-capacity list of name/value views") {
  captures params;
  CHECK(params.empty());
  CHECK(params.begin() == params.end());
  for (std::size_t i = 0; i < captures::capacity; ++i) CHECK(params.push_back({"n", "v"}));
  CHECK_FALSE(params.push_back({"overflow", "x"}));
  CHECK(params.size() == captures::capacity);
  CHECK_FALSE(params.get("overflow").has_value());
  CHECK(params.get("n") == "v");

  params.clear();
  CHECK(params.empty());
  params.push_back({"a", "1"});
  params.push_back({"b", ""});
  CHECK(params.get("b") == "");
  CHECK(params.get("b").has_value());
  CHECK_FALSE(params.get("c").has_value());
  std::string joined;
  for (const auto& c : params) joined += std::string{c.name} + "=" + std::string{c.value} + ";";
  CHECK(joined == "a=1;b=;");
}
