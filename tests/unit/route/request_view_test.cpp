#include "gantry/route/request_view.hpp"

#include <doctest/doctest.h>

#include <string_view>

using gantry::http::method;
using gantry::http::request;
using gantry::route::request_view;

TEST_CASE("route request view: host, path and query from a parsed request head") {
  struct view_case {
    method m;
    std::string_view target;
    std::string_view host_field;
    std::string_view host, path, query;
  };
  const view_case cases[] = {
      {method::get, "/users/7?x=1&y", "api.example.com", "api.example.com", "/users/7", "x=1&y"},
      {method::get, "/", "api.example.com:8080", "api.example.com", "/", ""},
      {method::get, "/a?", "[::1]:8080", "[::1]", "/a", ""},
      {method::get, "/a", "[::1]", "[::1]", "/a", ""},
      {method::get, "/a", "", "", "/a", ""},
      {method::get, "http://Other.example.com:81/p?q=1", "ignored.example.com", "Other.example.com",
       "/p", "q=1"},
      {method::get, "http://user@h.example.com", "", "h.example.com", "/", ""},
      {method::get, "https://h.example.com?q", "", "h.example.com", "/", "q"},
      {method::options, "*", "h.example.com", "h.example.com", "*", ""},
      {method::connect, "upstream.example.com:443", "", "upstream.example.com", "", ""},
  };
  for (const view_case& c : cases) {
    CAPTURE(c.target);
    request req{c.m, std::string{c.target}};
    if (!c.host_field.empty()) req.fields.add("Host", c.host_field);
    request_view v = request_view::from(req);
    CHECK(v.method == c.m);
    CHECK(v.host == c.host);
    CHECK(v.path == c.path);
    CHECK(v.query == c.query);
    CHECK(v.headers == &req.fields);
  }
}
