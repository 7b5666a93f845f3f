#include "gantry/route/path_rewrite.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using namespace gantry::route;

TEST_CASE("route path rewrite: strip_prefix removes whole leading segments") {
  struct strip_case {
    std::string_view prefix;
    std::string_view path;
    std::string_view expected;
  };
  const strip_case cases[] = {
      {"/api", "/api/users/7", "/users/7"},
      {"/api/", "/api/users", "/users"},
      {"/api", "/api", "/"},
      {"/api", "/api/", "/"},
      {"/api", "/apis/x", "/apis/x"},
      {"/api", "/other", "/other"},
      {"/", "/x/y", "/x/y"},
      {"/a/b", "/a/b/c", "/c"},
      {"/a/b", "/a/bc", "/a/bc"},
  };
  captures none;
  std::string out = "stale";
  for (const strip_case& c : cases) {
    CAPTURE(c.prefix);
    CAPTURE(c.path);
    rewrite_path(strip_prefix{std::string{c.prefix}}, c.path, none, out);
    CHECK(out == c.expected);
  }
}

TEST_CASE("route path rewrite: a template is filled from the captures") {
  captures params;
  params.push_back({"id", "7"});
  params.push_back({"rest", "a/b.txt"});
  std::string out;
  rewrite_path(template_rewrite{"/v2/users/{id}"}, "/users/7", params, out);
  CHECK(out == "/v2/users/7");
  rewrite_path(template_rewrite{"/files/{*rest}?"}, "/x", params, out);
  CHECK(out == "/files/a/b.txt?");
  rewrite_path(template_rewrite{"/u/{id}/{rest}/{id}"}, "/x", params, out);
  CHECK(out == "/u/7/a/b.txt/7");

  SUBCASE("a reused string keeps its capacity") {
    out.reserve(256);
    const char* buffer = out.data();
    rewrite_path(template_rewrite{"/v2/users/{id}"}, "/users/7", params, out);
    CHECK(out.data() == buffer);
  }
}

TEST_CASE("route captures expand into templates; stray braces stay as they are") {
  captures params;
  params.push_back({"id", "42"});
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"https://new.example.com/users/{id}", "https://new.example.com/users/42"},
      {"{id}{id}", "4242"},
      {"/{unknown}/x", "//x"},
      {"/{", "/{"},
      {"/{}", "/{}"},
      {"/{not a name}/{id}", "/{not a name}/42"},
      {"/{{id}}", "/{42}"},
      {"no placeholders", "no placeholders"},
      {"", ""},
  };
  for (auto [pattern, expected] : cases) {
    CAPTURE(pattern);
    std::string out = "kept:";
    expand_captures(pattern, params, out);
    CHECK(out == "kept:" + std::string{expected});
  }
}
