#include "gantry/http/target.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using gantry::http::is_valid_host;
using gantry::http::method;
using gantry::http::request;
using gantry::http::to_origin_form;

TEST_CASE("target: is_valid_host") {
  SUBCASE("hosts and ports") {
    for (std::string_view host :
         {"a", "api.example.com", "api.example.com:8080", "127.0.0.1", "127.0.0.1:80", "[::1]",
          "[::1]:8080", "[2001:db8::7]", "[::ffff:10.0.0.1]", "xn--caf-dma.example", "a_b-c~d",
          "%41bc", "a:", "", "sub!$&'()*+,;=delims"}) {
      CAPTURE(host);
      CHECK(is_valid_host(host));
    }
  }
  SUBCASE("anything else") {
    for (std::string_view host :
         {"a b",    "a/b",     "user@a", "a:8o",   "a:1:2", "[::1", "::1",
          "[::1]x", "[::1]:x", "[]",     "[g::1]", "a%zz",  "a%4",  "caf\xc3\xa9",
          "a?b",    "a#b",     "a\tb",   "a\"b",   "a\\b",  "a[b]", "a, b"}) {
      CAPTURE(host);
      CHECK_FALSE(is_valid_host(host));
    }
    CHECK_FALSE(is_valid_host(std::string_view{"a\0b", 3}));
  }
}

TEST_CASE("target: to_origin_form") {
  auto converted = [](std::string target, method m = method::get) {
    request req{m, std::move(target)};
    req.fields.add("Host", "client.example");
    req.fields.add("Accept", "*/*");
    const bool ok = to_origin_form(req);
    return std::pair{ok, req};
  };

  SUBCASE("origin-form and asterisk-form for OPTIONS stay as they are") {
    for (std::string_view target : {"/", "/a/b?c=d", "/%2F"}) {
      auto [ok, req] = converted(std::string{target});
      CHECK(ok);
      CHECK(req.target == target);
      CHECK(req.fields.get("Host") == "client.example");
    }
    auto [ok, req] = converted("*", method::options);
    CHECK(ok);
    CHECK(req.target == "*");
  }

  SUBCASE("absolute-form: origin-form target, the authority as Host") {
    struct row {
      std::string_view target, origin, host;
    };
    for (row r : {row{"http://example.com/p?q=1", "/p?q=1", "example.com"},
                  row{"http://example.com", "/", "example.com"},
                  row{"http://example.com:8080?q", "/?q", "example.com:8080"},
                  row{"HTTPS://Example.com/a/b", "/a/b", "Example.com"},
                  row{"http://[::1]:80/x", "/x", "[::1]:80"}}) {
      CAPTURE(r.target);
      auto [ok, req] = converted(std::string{r.target});
      CHECK(ok);
      CHECK(req.target == r.origin);
      CHECK(req.fields.count("Host") == 1);
      CHECK(req.fields.get("Host") == r.host);
      CHECK(req.fields.get("Accept") == "*/*");
    }
  }

  SUBCASE("refused, the request unchanged") {
    for (std::string_view target :
         {"p", "example.com/p", "*", "ftp://example.com/", "http:/example.com/", "http:///p",
          "http://:80/p", "http://user@example.com/", "http://[::1/", "http://a b/",
          "mailto:a@example.com"}) {
      CAPTURE(target);
      auto [ok, req] = converted(std::string{target});
      CHECK_FALSE(ok);
      CHECK(req.target == target);
      CHECK(req.fields.get("Host") == "client.example");
    }
  }
}
