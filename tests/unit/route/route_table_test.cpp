#include "gantry/route/route_table.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using gantry::http::method;
using namespace gantry::route;

namespace {

// A route whose action names the route, so a match is easy to read back.
route named(std::string name, path_matcher path, std::string host = "") {
  route r;
  r.name = name;
  r.match.host = std::move(host);
  r.match.path = std::move(path);
  r.action = proxy{std::move(name)};
  return r;
}

route_table build(std::vector<route> routes) {
  route_table::builder b;
  for (route& r : routes) b.add(std::move(r));
  return std::move(b).build();
}

// The name of the route `req` matches, or "-" for none.
std::string match_name(const route_table& table, const request_view& req) {
  captures params;
  const route* r = table.match(req, params);
  return r ? r->name : "-";
}

std::string match_name(const route_table& table, std::string_view path, std::string_view host = "",
                       method m = method::get) {
  return match_name(table, request_view{.host = host, .method = m, .path = path});
}

// The message `build` throws for `routes`, or "" when it builds.
std::string build_error(std::vector<route> routes) {
  try {
    build(std::move(routes));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

struct path_case {
  std::string_view path;
  std::string_view expected;
};

// Checks that each path (on any host, with GET) matches the expected route.
void check_paths(const route_table& table, std::span<const path_case> cases) {
  for (const path_case& c : cases) {
    CAPTURE(c.path);
    CHECK(match_name(table, c.path) == c.expected);
  }
}

}  // namespace

TEST_CASE("route table: exact beats template beats prefix beats regex") {
  auto table = build({
      named("regex", path_regex{"/users/.*"}),
      named("prefix", path_prefix{"/users"}),
      named("template", path_template{"/users/{id}"}),
      named("exact", path_exact{"/users/me"}),
      named("reports", path_regex{"/reports/(?P<year>[0-9]{4})"}),
  });
  const path_case cases[] = {
      {"/users/me", "exact"}, {"/users/7", "template"}, {"/users/7/posts", "prefix"},
      {"/users", "prefix"},   {"/users/", "prefix"},    {"/reports/2024", "reports"},
      {"/reports/24", "-"},   {"/usersx", "-"},         {"", "-"},
      {"users/7", "-"},
  };
  check_paths(table, cases);

  SUBCASE("declaration order does not change the ranking") {
    auto reversed = build({
        named("exact", path_exact{"/users/me"}),
        named("template", path_template{"/users/{id}"}),
        named("prefix", path_prefix{"/users"}),
        named("regex", path_regex{"/users/.*"}),
    });
    for (const path_case& c : cases) {
      if (c.expected == "reports") continue;
      CAPTURE(c.path);
      CHECK(match_name(reversed, c.path) == c.expected);
    }
  }
  SUBCASE("a regex is reached when nothing else matches") {
    auto only = build({named("prefix", path_prefix{"/api"}), named("regex", path_regex{"/u.*"})});
    CHECK(match_name(only, "/users/7") == "regex");
    CHECK(match_name(only, "/api/users") == "prefix");
  }
}

TEST_CASE("route table: templates rank literal over {param} over {*rest}, segment by segment") {
  auto table = build({
      named("catch-all", path_template{"/users/{*rest}"}),
      named("posts", path_template{"/users/{id}/posts"}),
      named("me", path_template{"/users/me/{tab}"}),
      named("user", path_template{"/users/{id}"}),
      named("root", path_template{"/{*all}"}),
  });
  const path_case cases[] = {
      {"/users/me/posts", "me"},        // literal "me" beats {id} at the second segment
      {"/users/7/posts", "posts"},      // {id}, then the literal "posts"
      {"/users/me", "user"},            // no literal "/users/me" route: {id}
      {"/users/7/likes", "catch-all"},  // backtracks from {id}/posts to {*rest}
      {"/users/me/a/b", "catch-all"},   // too deep for "me/{tab}" and "{id}/posts"
      {"/users/", "catch-all"},         // {id} needs a non-empty segment; {*rest} may be empty
      {"/users", "root"},               // {*rest} needs the '/' after "users"
      {"/", "root"},
      {"/elsewhere/x", "root"},
  };
  check_paths(table, cases);
}

TEST_CASE("route table: a candidate whose conditions fail gives way to the next in rank") {
  route me = named("me-get", path_template{"/users/me/{tab}"});
  me.match.methods = {method::get};
  auto table = build({me, named("posts", path_template{"/users/{id}/posts"}),
                      named("api", path_prefix{"/users"})});
  CHECK(match_name(table, "/users/me/posts", "", method::get) == "me-get");
  CHECK(match_name(table, "/users/me/posts", "", method::post) == "posts");
  CHECK(match_name(table, "/users/me/likes", "", method::post) == "api");
}

TEST_CASE("route table: the longest prefix wins, a whole segment at a time") {
  auto table = build({
      named("root", path_prefix{"/"}),
      named("api", path_prefix{"/api/"}),
      named("v1", path_prefix{"/api/v1"}),
      named("users", path_prefix{"/api/v1/users"}),
  });
  const path_case cases[] = {
      {"/api/v1/users/7", "users"},
      {"/api/v1/users", "users"},
      {"/api/v1/usersx", "v1"},
      {"/api/v1/", "v1"},
      {"/api/v2", "api"},
      {"/api", "api"},
      {"/apis", "root"},
      {"/", "root"},
      {"//api", "root"},
      {"*", "-"},
  };
  check_paths(table, cases);
}

TEST_CASE("route table: exact host, then wildcards longest first, then any host") {
  auto table = build({
      named("any", path_prefix{"/"}),
      named("any-users", path_exact{"/users"}),
      named("wild", path_prefix{"/"}, "*.example.com"),
      named("wild-eu", path_prefix{"/"}, "*.EU.example.com"),
      named("exact", path_prefix{"/"}, "api.example.com"),
      named("exact-only-here", path_exact{"/only-here"}, "shop.example.com"),
      named("ipv6", path_prefix{"/"}, "[::1]"),
  });
  struct host_case {
    std::string_view host;
    std::string_view path;
    std::string_view expected;
  };
  const host_case cases[] = {
      {"api.example.com", "/users", "exact"},  // host ranks before path: exact host's prefix "/"
      {"API.Example.COM", "/x", "exact"},      // hosts compare case-insensitively
      {"api.example.com.", "/x", "exact"},     // a trailing dot is ignored
      {"www.example.com", "/x", "wild"},
      {"a.b.example.com", "/x", "wild"},       // a wildcard spans several labels
      {"db.eu.example.com", "/x", "wild-eu"},  // the longer suffix first
      {"eu.example.com", "/x", "wild"},        // "*.eu..." needs a label before ".eu"
      {"example.com", "/x", "any"},            // "*.example.com" needs one
      {"example.com", "/users", "any-users"},
      {"", "/x", "any"},
      {"shop.example.com", "/only-here", "exact-only-here"},
      {"shop.example.com", "/x", "wild"},  // falls through to the next host pattern
      {"[::1]", "/x", "ipv6"},
      {"xexample.com", "/x", "any"},
  };
  for (const host_case& c : cases) {
    CAPTURE(c.host);
    CAPTURE(c.path);
    CHECK(match_name(table, c.path, c.host) == c.expected);
  }

  SUBCASE("without a route for any host, unknown hosts match nothing") {
    auto strict = build({named("exact", path_prefix{"/"}, "api.example.com")});
    CHECK(match_name(strict, "/", "api.example.com") == "exact");
    CHECK(match_name(strict, "/", "other.example.com") == "-");
    CHECK(match_name(strict, "/", std::string(300, 'a')) == "-");
  }
  SUBCASE("\"*\" is any host") {
    auto star = build({named("star", path_prefix{"/"}, "*")});
    CHECK(match_name(star, "/", "whatever.test") == "star");
  }
}

TEST_CASE("route table: declared order decides among the same path, told apart by conditions") {
  route canary = named("canary", path_prefix{"/api"});
  canary.match.headers = {header_matcher::exact("X-Canary", "1")};
  route beta = named("beta", path_prefix{"/api"});
  beta.match.query = {query_matcher::present("beta")};
  route writes = named("writes", path_prefix{"/api"});
  writes.match.methods = {method::post, method::put};
  route rest = named("rest", path_prefix{"/api"});
  auto table = build({canary, beta, writes, rest});

  gantry::http::headers canary_on;
  canary_on.add("x-canary", "1");
  gantry::http::headers canary_off;
  canary_off.add("X-Canary", "0");

  struct order_case {
    method m;
    std::string_view query;
    const gantry::http::headers* fields;
    std::string_view expected;
  };
  const order_case cases[] = {
      {method::get, "", &canary_on, "canary"},    {method::post, "beta", &canary_on, "canary"},
      {method::get, "beta", &canary_off, "beta"}, {method::post, "beta", nullptr, "beta"},
      {method::post, "", &canary_off, "writes"},  {method::put, "", nullptr, "writes"},
      {method::delete_, "", &canary_off, "rest"}, {method::get, "x=beta", nullptr, "rest"},
  };
  for (const order_case& c : cases) {
    CAPTURE(c.expected);
    CHECK(match_name(table,
                     {.method = c.m, .path = "/api/x", .query = c.query, .headers = c.fields}) ==
          c.expected);
  }
}

TEST_CASE("route table: method sets") {
  route reads = named("reads", path_exact{"/items"});
  reads.match.methods = {method::get, method::head};
  route create = named("create", path_exact{"/items"});
  create.match.methods = {method::post};
  auto table = build({reads, create});
  CHECK(match_name(table, "/items", "", method::get) == "reads");
  CHECK(match_name(table, "/items", "", method::head) == "reads");
  CHECK(match_name(table, "/items", "", method::post) == "create");
  CHECK(match_name(table, "/items", "", method::delete_) == "-");
}

TEST_CASE("route table: header conditions (exact, present, regex)") {
  route exact = named("exact", path_exact{"/"});
  exact.match.headers = {header_matcher::exact("X-Version", "2")};
  route regex = named("regex", path_exact{"/"});
  regex.match.headers = {header_matcher::regex("user-agent", ".*Mobile.*")};
  route both = named("both", path_exact{"/both"});
  both.match.headers = {header_matcher::present("Authorization"),
                        header_matcher::exact("X-Tenant", "acme")};
  auto table = build({exact, regex, both});

  auto with = [&](std::string_view path, std::vector<std::pair<std::string, std::string>> fields) {
    gantry::http::headers h;
    for (auto& [name, value] : fields) h.add(name, value);
    return match_name(table, {.path = path, .headers = &h});
  };
  CHECK(with("/", {{"x-version", "2"}}) == "exact");
  CHECK(with("/", {{"X-Version", "20"}}) == "-");
  CHECK(with("/", {{"X-Version", "1"}, {"X-Version", "2"}}) == "exact");  // any repeated field
  CHECK(with("/", {{"User-Agent", "Foo Mobile Safari"}}) == "regex");
  CHECK(with("/", {{"User-Agent", "Desktop"}}) == "-");
  CHECK(with("/both", {{"Authorization", ""}, {"X-Tenant", "acme"}}) == "both");
  CHECK(with("/both", {{"X-Tenant", "acme"}}) == "-");
  CHECK(with("/both", {{"Authorization", "x"}, {"X-Tenant", "ACME"}}) == "-");  // values: case
  CHECK(match_name(table, "/both") == "-");  // no header fields at all
}

TEST_CASE("route table: query conditions (exact, present), percent-decoded") {
  route v2 = named("v2", path_exact{"/search"});
  v2.match.query = {query_matcher::exact("version", "2")};
  route spaced = named("spaced", path_exact{"/search"});
  spaced.match.query = {query_matcher::exact("q", "a b&c")};
  route debug = named("debug", path_exact{"/search"});
  debug.match.query = {query_matcher::present("debug")};
  auto table = build({v2, spaced, debug});

  const std::pair<std::string_view, std::string_view> cases[] = {
      {"version=2", "v2"},
      {"x=1&version=2", "v2"},
      {"version=1&version=2", "v2"},
      {"version=%32", "v2"},
      {"versio%6e=2", "v2"},
      {"version=20", "-"},
      {"q=a+b%26c", "spaced"},
      {"q=a%20b%26c", "spaced"},
      {"q=a b", "-"},
      {"debug", "debug"},
      {"debug=", "debug"},
      {"debug=0&x", "debug"},
      {"debugger=1", "-"},
      {"", "-"},
      {"version=%3", "-"},
      {"&&version=2&", "v2"},
  };
  for (auto [query, expected] : cases) {
    CAPTURE(query);
    CHECK(match_name(table, {.path = "/search", .query = query}) == expected);
  }
}

TEST_CASE("route table: templates capture {param} and {*rest} as views into the path") {
  auto table = build({
      named("post", path_template{"/users/{user_id}/posts/{post}"}),
      named("files", path_template{"/files/{bucket}/{*path}"}),
      named("other-name", path_template{"/users/{name}"}),
  });
  captures params;

  SUBCASE("parameters in pattern order, under their own route's names") {
    const std::string path = "/users/42/posts/hello%20world";
    const route* r = table.match({.path = path}, params);
    REQUIRE(r != nullptr);
    CHECK(r->name == "post");
    REQUIRE(params.size() == 2);
    CHECK(params[0].name == "user_id");
    CHECK(params[0].value == "42");
    CHECK(params[1].name == "post");
    CHECK(params[1].value == "hello%20world");         // not decoded
    CHECK(params[0].value.data() == path.data() + 7);  // a view, not a copy

    r = table.match({.path = "/users/ann"}, params);
    REQUIRE(r != nullptr);
    CHECK(r->name == "other-name");
    CHECK(params.get("name") == "ann");
    CHECK_FALSE(params.get("user_id").has_value());
  }
  SUBCASE("the catch-all takes the rest, slashes included, possibly empty") {
    REQUIRE(table.match({.path = "/files/b1/a/b/c.txt"}, params) != nullptr);
    CHECK(params.get("bucket") == "b1");
    CHECK(params.get("path") == "a/b/c.txt");
    REQUIRE(table.match({.path = "/files/b1/"}, params) != nullptr);
    CHECK(params.get("path") == "");
    CHECK(table.match({.path = "/files/b1"}, params) == nullptr);
    CHECK(params.empty());  // cleared on a miss
  }
  SUBCASE("a parameter never matches an empty segment") {
    CHECK(table.match({.path = "/users//posts/1"}, params) == nullptr);
    CHECK(table.match({.path = "/users/"}, params) == nullptr);
  }
  SUBCASE("captures::capacity parameters fit one pattern") {
    auto wide = build({named("eight", path_template{"/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{*h}"})});
    REQUIRE(wide.match({.path = "/1/2/3/4/5/6/7/8/9"}, params) != nullptr);
    REQUIRE(params.size() == captures::capacity);
    CHECK(params.get("h") == "8/9");
  }
}

TEST_CASE("route table: regex routes match the whole path in linear time and capture names") {
  route numbered =
      named("numbered", path_regex{"/v(?P<version>[0-9]+)/items/(?P<id>[0-9]+)(/.*)?"});
  route optional = named("optional", path_regex{"/o(?P<x>x)?(?P<y>y)?"});
  route pathological = named("pathological", path_regex{"/(a+)+$"});
  route agent = named("agent", path_exact{"/ua"});
  agent.match.headers = {header_matcher::regex("User-Agent", "(a+)+b")};
  auto table = build({numbered, optional, pathological, agent});
  captures params;

  const route* r = table.match({.path = "/v2/items/17/detail"}, params);
  REQUIRE(r != nullptr);
  CHECK(r->name == "numbered");
  REQUIRE(params.size() == 2);
  CHECK(params[0].name == "version");
  CHECK(params[0].value == "2");
  CHECK(params[1].name == "id");
  CHECK(params[1].value == "17");
  CHECK(table.match({.path = "/v2/items/17x"}, params) == nullptr);  // anchored at both ends
  CHECK(table.match({.path = "x/v2/items/17"}, params) == nullptr);

  REQUIRE(table.match({.path = "/oy"}, params) != nullptr);
  CHECK(params.size() == 1);  // the unmatched group x is left out
  CHECK(params.get("y") == "y");

  // A backtracking engine takes exponential time on these; RE2 takes linear time.
  std::string path = "/" + std::string(100'000, 'a');
  CHECK(match_name(table, path) == "pathological");
  path += '!';
  CHECK(match_name(table, path) == "-");
  gantry::http::headers h;
  h.add("User-Agent", std::string(100'000, 'a') + "c");
  CHECK(match_name(table, {.path = "/ua", .headers = &h}) == "-");
}

TEST_CASE("route table: conflicting routes are rejected, naming both") {
  struct conflict_case {
    std::string_view why;
    route first;
    route second;
  };
  route get_a = named("a", path_exact{"/x"});
  get_a.match.methods = {method::get, method::post};
  route get_b = named("b", path_exact{"/x"});
  get_b.match.methods = {method::post, method::get};
  route cond_a = named("a", path_prefix{"/x"});
  cond_a.match.headers = {header_matcher::exact("X-A", "1"), header_matcher::present("X-B")};
  cond_a.match.query = {query_matcher::exact("q", "1")};
  route cond_b = named("b", path_prefix{"/x"});
  cond_b.match.headers = {header_matcher::present("x-b"), header_matcher::exact("x-a", "1")};
  cond_b.match.query = {query_matcher::exact("q", "1")};

  const conflict_case cases[] = {
      {"same exact path", named("a", path_exact{"/x"}), named("b", path_exact{"/x"})},
      {"templates differing in names only", named("a", path_template{"/u/{id}/{*rest}"}),
       named("b", path_template{"/u/{uid}/{*tail}"})},
      {"a template without parameters is exact", named("a", path_exact{"/u/me"}),
       named("b", path_template{"/u/me"})},
      {"prefixes equal but for a trailing slash", named("a", path_prefix{"/api"}),
       named("b", path_prefix{"/api/"})},
      {"same regex", named("a", path_regex{"/r.*"}), named("b", path_regex{"/r.*"})},
      {"hosts differing in case", named("a", path_exact{"/x"}, "API.example.com"),
       named("b", path_exact{"/x"}, "api.example.com.")},
      {"empty host and \"*\"", named("a", path_exact{"/x"}, "*"), named("b", path_exact{"/x"})},
      {"same method set, listed differently", get_a, get_b},
      {"same conditions in another order", cond_a, cond_b},
  };
  for (const conflict_case& c : cases) {
    CAPTURE(c.why);
    std::string error = build_error({named("unrelated", path_exact{"/y"}), c.first, c.second});
    CHECK(error.find("conflict") != std::string::npos);
    CHECK(error.find("'a'") != std::string::npos);
    CHECK(error.find("'b'") != std::string::npos);
    CHECK(error.find("unrelated") == std::string::npos);
  }

  SUBCASE("unnamed routes are named by position, counted from 1") {
    route one = named("", path_exact{"/x"});
    one.action = proxy{"c"};
    route two = one;
    std::string error = build_error({named("first", path_exact{"/"}), one, two});
    CHECK(error.find("routes #2 and #3 conflict") != std::string::npos);
  }
}

TEST_CASE("route table: routes that only overlap are accepted") {
  route get_only = named("get", path_exact{"/x"});
  get_only.match.methods = {method::get};
  route post_only = named("post", path_exact{"/x"});
  post_only.match.methods = {method::post};
  route canary = named("canary", path_exact{"/x"});
  canary.match.headers = {header_matcher::exact("X-Canary", "1")};
  route other_canary = named("other-canary", path_exact{"/x"});
  other_canary.match.headers = {header_matcher::exact("X-Canary", "2")};
  route rest = named("rest", path_exact{"/x"});
  const std::vector<route> tables[] = {
      {get_only, post_only},
      {canary, other_canary, rest},
      {named("exact", path_exact{"/x"}), named("prefix", path_prefix{"/x"}),
       named("template", path_template{"/{x}"}), named("regex", path_regex{"/x"})},
      {named("one-host", path_exact{"/x"}, "a.example.com"),
       named("wild", path_exact{"/x"}, "*.example.com"), named("any", path_exact{"/x"})},
      {named("param", path_template{"/u/{id}"}), named("catch-all", path_template{"/u/{*rest}"})},
  };
  for (const auto& routes : tables) CHECK(build_error(routes) == "");
}

TEST_CASE("route table: a route hidden behind an earlier one is rejected, naming both") {
  route any_method = named("all", path_exact{"/x"});
  route get_only = named("get", path_exact{"/x"});
  get_only.match.methods = {method::get};
  route present = named("present", path_exact{"/x"});
  present.match.headers = {header_matcher::present("X-Canary")};
  route exact = named("exact", path_exact{"/x"});
  exact.match.headers = {header_matcher::exact("X-Canary", "1")};
  route debug = named("debug", path_exact{"/x"});
  debug.match.query = {query_matcher::present("debug")};
  route debug_on = named("debug-on", path_exact{"/x"});
  debug_on.match.query = {query_matcher::exact("debug", "1")};

  const std::pair<route, route> cases[] = {
      {any_method, get_only}, {any_method, exact}, {present, exact}, {debug, debug_on}};
  for (const auto& [earlier, later] : cases) {
    CAPTURE(earlier.name);
    CAPTURE(later.name);
    std::string error = build_error({earlier, later});
    CHECK(error.find(fmt::format("route '{}' can never match: route '{}'", later.name,
                                 earlier.name)) != std::string::npos);
    // The other way round, the narrower route comes first and both are reachable.
    CHECK(build_error({later, earlier}) == "");
  }
}

TEST_CASE("route table: malformed routes are rejected, naming the route and the pattern") {
  struct bad_case {
    route r;
    std::string_view expected;
  };
  auto with = [](route r, auto&& edit) {
    edit(r);
    return r;
  };
  const bad_case cases[] = {
      {named("t1", path_template{"/users/{id"}), "route 't1': path template \"/users/{id\""},
      {named("t2", path_template{"/users/{id}.json"}), "a parameter must be a whole segment"},
      {named("t3", path_template{"/f/{*rest}/x"}), "{*rest} must be the last segment"},
      {named("t4", path_template{"/a/{id}/{id}"}), "parameter \"id\" appears twice"},
      {named("t5", path_template{"/{1x}"}), "is not an identifier"},
      {named("t6", path_template{"/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"}),
       "more than 8 parameters"},
      {named("t7", path_template{"users/{id}"}), "must start with '/'"},
      {named("t8", path_template{[] {
               std::string deep;
               for (int k = 0; k < 129; ++k) deep += "/s";
               return deep;
             }()}),
       "more than 128 segments"},
      {named("e1", path_exact{"users"}), "exact path \"users\" must start with '/'"},
      {named("p1", path_prefix{""}), "path prefix \"\" must start with '/'"},
      {named("r1", path_regex{"/users/("}), "route 'r1': path regex \"/users/(\": missing )"},
      {named("h1", path_exact{"/"}, "a*.example.com"), "route 'h1': host \"a*.example.com\""},
      {named("h2", path_exact{"/"}, "api.example.com:8080"), "must not include a port"},
      {named("h3", path_exact{"/"}, "*."), "needs a suffix"},
      {named("h4", path_exact{"/"}, "a..b"), "empty labels"},
      {with(named("hd", path_exact{"/"}),
            [](route& r) { r.match.headers = {header_matcher::regex("X-A", "(")}; }),
       "route 'hd': header \"X-A\" regex \"(\""},
      {with(named("hn", path_exact{"/"}),
            [](route& r) { r.match.headers = {header_matcher::present("")}; }),
       "no field name"},
      {with(named("qn", path_exact{"/"}), [](route& r) { r.match.query = {query_matcher{}}; }),
       "no parameter name"},
      {with(named("c1", path_exact{"/"}), [](route& r) { r.action = proxy{}; }), "no cluster name"},
      {with(named("s1", path_exact{"/"}), [](route& r) { r.action = weighted_split{}; }),
       "has no clusters"},
      {with(named("s2", path_exact{"/"}),
            [](route& r) {
              r.action = weighted_split{.clusters = {{"a", 0}, {"b", 0}}};
            }),
       "add up to 0"},
      {with(named("s3", path_exact{"/"}),
            [](route& r) {
              r.action = weighted_split{.clusters = {{"a", 1}}, .sticky = sticky_key{}};
            }),
       "sticky key has no name"},
      {with(named("d1", path_exact{"/"}),
            [](route& r) {
              r.action = redirect{.status = gantry::http::status::ok, .location = "/"};
            }),
       "redirect status 200"},
      {with(named("d2", path_template{"/u/{id}"}),
            [](route& r) { r.action = redirect{.location = "/v2/users/{uid}"}; }),
       "redirect location \"/v2/users/{uid}\" uses {uid}"},
      {with(
           named("dr", path_exact{"/"}),
           [](route& r) { r.action = direct_response{.status = gantry::http::status::continue_}; }),
       "direct response status 100"},
      {with(named("w1", path_template{"/u/{id}"}),
            [](route& r) { r.rewrite = template_rewrite{"/v2/{user}"}; }),
       "rewrite template \"/v2/{user}\" uses {user}"},
      {with(named("w2", path_exact{"/u"}), [](route& r) { r.rewrite = strip_prefix{}; }),
       "needs a path_prefix route"},
      {with(named("w3", path_prefix{"/u"}), [](route& r) { r.rewrite = strip_prefix{"u"}; }),
       "strip_prefix \"u\" must start with '/'"},
      {with(named("to", path_exact{"/"}),
            [](route& r) { r.timeout = std::chrono::milliseconds{0}; }),
       "timeout must be positive"},
  };
  for (const bad_case& c : cases) {
    CAPTURE(c.r.name);
    std::string error = build_error({named("fine", path_exact{"/fine"}), c.r});
    CHECK(error.find(c.expected) != std::string::npos);
    CHECK(error.find("fine") == std::string::npos);
  }

  SUBCASE("every problem is reported at once") {
    std::string error = build_error({named("a", path_template{"/{"}), named("b", path_regex{"("}),
                                     named("a", path_exact{"/"})});
    CHECK(error.find("3 problems") != std::string::npos);
    CHECK(error.find("route 'a': path template") != std::string::npos);
    CHECK(error.find("route 'b': path regex") != std::string::npos);
    CHECK(error.find("routes #1 and #3 are both named 'a'") != std::string::npos);
  }
}

TEST_CASE("route table: a line break or NUL quoted from a route stays on its problem's line") {
  // Found by the route_table fuzz target: the message is one problem per line, and what()
  // is a C string.
  const std::string error = build_error({
      named("a", path_template{"/x\n{y"}),
      named("b\r", path_template{std::string{"/{z\0}", 5}}),
  });
  CHECK(error ==
        "2 problems in the route table:\n"
        "route 'a': path template \"/x\\x0a{y\": segment \"x\\x0a{y\": a parameter must be a "
        "whole segment, like {id}\n"
        "route 'b\\x0d': path template \"/{z\\x00}\": parameter name \"z\\x00\" is not an "
        "identifier ([A-Za-z_][A-Za-z0-9_]*)");
}

TEST_CASE("route table: what a route writes as it is cannot inject into a head") {
  auto with = [](std::string name, auto&& edit) {
    route r = named(std::move(name), path_template{"/u/{id}"});
    edit(r);
    return r;
  };
  auto direct_with = [](std::string_view field, std::string_view value) {
    direct_response d;
    d.headers.add(field, value);
    return d;
  };
  const std::pair<route, std::string_view> cases[] = {
      {with("hr1", [](route& r) { r.host_rewrite = "a.example\r\nX-Admin: 1"; }),
       "host_rewrite \"a.example"},
      {with("hr2", [](route& r) { r.host_rewrite = "user@a.example"; }), "is not a host"},
      {with("rd", [](route& r) { r.action = redirect{.location = "/v2/{id}\r\nSet-Cookie: a=b"}; }),
       "redirect location holds CR, LF or NUL"},
      {with("dn", [&](route& r) { r.action = direct_with("Bad Name", "x"); }),
       "direct response field \"Bad Name\" is not a field name"},
      {with("dv", [&](route& r) { r.action = direct_with("X-Split", "a\r\n\r\n<html>"); }),
       "direct response field X-Split holds CR, LF or NUL"},
      {with("dz",
            [&](route& r) {
              r.action = direct_with("X-Nul", std::string_view{"a\0b", 3});
            }),
       "direct response field X-Nul holds CR, LF or NUL"},
      {with("rw1", [](route& r) { r.rewrite = template_rewrite{"/v2/{id} HTTP/1.1\r\nX: y"}; }),
       "rewrite template holds whitespace"},
      {with("rw2", [](route& r) { r.rewrite = template_rewrite{"/caf\xc3\xa9/{id}"}; }),
       "rewrite template holds whitespace, control or non-ASCII bytes"},
  };
  for (const auto& [r, expected] : cases) {
    CAPTURE(r.name);
    std::string error = build_error({named("fine", path_exact{"/fine"}), r});
    CAPTURE(error);
    CHECK(error.find("route '" + r.name + "'") != std::string::npos);
    CHECK(error.find(expected) != std::string::npos);
  }
  SUBCASE("what is well-formed builds") {
    CHECK(build_error({with("ok", [&](route& r) {
            r.host_rewrite = "users.internal:8080";
            r.rewrite = template_rewrite{"/v2/users/{id}?x=1"};
            r.action = direct_with("X-Ok", "tab\tand obs-text \xff are fine");
          })}) == "");
  }
}

TEST_CASE("route table: the builder completes strip_prefix{} from the route's prefix") {
  route r = named("api", path_prefix{"/api/"});
  r.rewrite = strip_prefix{};
  auto table = build({r});
  REQUIRE(table.size() == 1);
  REQUIRE(table.routes()[0].rewrite.has_value());
  CHECK(std::get<strip_prefix>(*table.routes()[0].rewrite).prefix == "/api");
}

TEST_CASE("route table: an empty table matches nothing, and tables are cheap to copy") {
  route_table none;
  captures params;
  CHECK(none.empty());
  CHECK(none.match({.path = "/"}, params) == nullptr);
  CHECK(route_table::builder{}.build().match({.path = "/"}, params) == nullptr);

  auto table = build({named("a", path_template{"/{x}"})});
  route_table copy = table;
  const route* r = copy.match({.path = "/7"}, params);
  REQUIRE(r != nullptr);
  CHECK(r == &table.routes()[0]);  // the same compiled table
  CHECK(table.routes().size() == 1);
}

TEST_CASE("route table: a route keeps its action, rewrites, timeout, tags and policies") {
  route r{
      .name = "users",
      .tags = {"team-a", "public"},
      .match = {.host = "api.example.com",
                .methods = {method::get},
                .path = path_template{"/users/{id}"}},
      .action = weighted_split{.clusters = {{"v1", 90}, {"v2", 10}},
                               .sticky = sticky_key{.from = sticky_key::source::cookie,
                                                    .name = "session"}},
      .rewrite = template_rewrite{"/v2/users/{id}"},
      .host_rewrite = "users.internal",
      .timeout = std::chrono::milliseconds{1500},
      .policies = {"key-auth", "rate-limit"},
  };
  auto table = build({r});
  captures params;
  const route* got =
      table.match({.host = "api.example.com", .method = method::get, .path = "/users/7"}, params);
  REQUIRE(got != nullptr);
  CHECK(got->tags == std::vector<std::string>{"team-a", "public"});
  CHECK(std::get<weighted_split>(got->action).clusters.size() == 2);
  CHECK(got->host_rewrite == "users.internal");
  CHECK(got->timeout == std::chrono::milliseconds{1500});
  CHECK(got->policies == std::vector<std::string>{"key-auth", "rate-limit"});
  std::string path;
  rewrite_path(*got->rewrite, "/users/7", params, path);
  CHECK(path == "/v2/users/7");
}

TEST_CASE("route table: literal segments of every length are told apart") {
  // Segments are hashed and compared in words; vary one byte at the start, the middle and the
  // end of segments from 1 to 24 bytes long.
  std::vector<std::string> segments;
  for (std::size_t length = 1; length <= 24; ++length) {
    for (std::size_t at : {std::size_t{0}, length / 2, length - 1}) {
      std::string s(length, 'a');
      s[at] = 'b';
      segments.push_back(s);
    }
    segments.emplace_back(length, 'a');
  }
  std::sort(segments.begin(), segments.end());
  segments.erase(std::unique(segments.begin(), segments.end()), segments.end());
  std::vector<route> routes;
  for (const std::string& s : segments) {
    routes.push_back(named("exact-" + s, path_exact{"/e/" + s}));
    routes.push_back(named("prefix-" + s, path_prefix{"/p/" + s}));
    routes.push_back(named("template-" + s, path_template{"/t/" + s + "/{id}"}));
  }
  auto table = build(routes);
  for (const std::string& s : segments) {
    CAPTURE(s);
    CHECK(match_name(table, "/e/" + s) == "exact-" + s);
    CHECK(match_name(table, "/p/" + s + "/x") == "prefix-" + s);
    CHECK(match_name(table, "/t/" + s + "/7") == "template-" + s);
    CHECK(match_name(table, "/e/" + s + "c") == "-");
    CHECK(match_name(table, "/p/c" + s) == "-");
  }
}

TEST_CASE("route table: an exact path \"*\" matches OPTIONS *") {
  route star = named("star", path_exact{"*"});
  star.match.methods = {method::options};
  auto table = build({star, named("root", path_prefix{"/"})});
  CHECK(match_name(table, "*", "", method::options) == "star");
  CHECK(match_name(table, "/", "", method::options) == "root");
}

TEST_CASE("route table: many routes across hosts all resolve to themselves") {
  std::vector<route> routes;
  const char* hosts[] = {"", "api.example.com", "*.example.com"};
  for (int i = 0; i < 3000; ++i) {
    std::string host = hosts[i % 3];
    routes.push_back(
        named(fmt::format("static-{}", i), path_exact{fmt::format("/svc{}/items", i)}, host));
    routes.push_back(named(fmt::format("template-{}", i),
                           path_template{fmt::format("/svc{}/items/{{id}}/history", i)}, host));
  }
  auto table = build(routes);
  const char* request_hosts[] = {"other.test", "api.example.com", "shop.example.com"};
  for (int i = 0; i < 3000; i += 7) {
    CAPTURE(i);
    const char* host = request_hosts[i % 3];
    CHECK(match_name(table, fmt::format("/svc{}/items", i), host) == fmt::format("static-{}", i));
    CHECK(match_name(table, fmt::format("/svc{}/items/x/history", i), host) ==
          fmt::format("template-{}", i));
    CHECK(match_name(table, fmt::format("/svc{}/items/x", i), host) == "-");
  }
}
