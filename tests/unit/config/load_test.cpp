#include "gantry/config/load.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <variant>

#include "config/config_test_support.hpp"
#include "gantry/gateway/gateway.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using config_test::problems;
using gantry::config::document;
using gantry::config::load_string;

TEST_CASE("config load: a document that declares one cluster has defaults for the rest") {
  document doc = load_string("clusters: [{name: c, endpoints: ['10.0.0.1:80']}]", "t.yaml");
  CHECK(doc.listen.empty());
  CHECK_FALSE(doc.admin_listen);
  CHECK(doc.gateway.clusters.size() == 1);
  CHECK(doc.gateway.routes.empty());
  CHECK(doc.gateway.policies.empty());
  CHECK(doc.options.workers == gantry::gateway_options{}.workers);
  CHECK(doc.options.drain_timeout == gantry::gateway_options{}.drain_timeout);
  CHECK(doc.options.client.request_limits.max_field_count ==
        gantry::http::parser_limits{}.max_field_count);
  // Routes alone are enough too; with neither, the gateway would have nothing to serve.
  CHECK(load_string("routes: [{direct: {}}]", "t.yaml").gateway.routes.size() == 1);
  CHECK(problems("") == "t.yaml:1:1: nothing to serve: declare clusters, or routes");
  CHECK(problems("# only a comment\nworkers: 2\n") ==
        "t.yaml:2:1: nothing to serve: declare clusters, or routes");
}

TEST_CASE("config load: listeners, clusters and every option") {
  document doc = load_string(R"(
listen: ["127.0.0.1:8080", "[::1]:8081", ":8082", "*:0"]
admin: {listen: "127.0.0.1:9901"}
workers: 4
drain_timeout: 1m30s
timer_resolution: 50ms
buffer_size: 32KiB
client:
  request_head_timeout: 5s
  body_timeout: 20s
  keepalive_timeout: 75s
  max_connections: 500
  max_total_connections: 1500
  max_requests_per_connection: 0
  request_limits:
    max_target_length: 4KiB
    max_header_section: 32KiB
    max_field_count: 50
    max_body_size: 10MB
  paths: {merge_slashes: false, encoded_slashes: keep}
upstream:
  connect_timeout: 250ms
  response_timeout: 1h
  response_limits: {max_header_section: 128KiB}
  pool:
    max_idle_per_endpoint: 8
    idle_timeout: 10s
    max_exchanges_per_connection: 100
clusters:
  - name: users
    endpoints: ["10.0.0.7:8080", "users.internal:80"]
  - name: cdn
    endpoints: ["[2001:db8::1]:443"]
)",
                             "t.yaml");
  CHECK(config_test::addresses(doc) ==
        std::vector<std::string>{"127.0.0.1:8080", "[::1]:8081", ":8082", "*:0"});
  CHECK(doc.admin_listen == "127.0.0.1:9901");
  const gantry::gateway_options& o = doc.options;
  CHECK(o.workers == 4);
  CHECK(o.drain_timeout == 90s);
  CHECK(o.timer_resolution == 50ms);
  CHECK(o.buffer_size == 32 * 1024);
  CHECK(o.client.request_head_timeout == 5s);
  CHECK(o.client.body_timeout == 20s);
  CHECK(o.client.keepalive_timeout == 75s);
  CHECK(o.client.max_connections == 500);
  CHECK(o.client.max_total_connections == 1500);
  CHECK(o.client.max_requests_per_connection == 0);
  CHECK(o.client.request_limits.max_target_length == 4096);
  CHECK(o.client.request_limits.max_header_section == 32 * 1024);
  CHECK(o.client.request_limits.max_field_count == 50);
  CHECK(o.client.request_limits.max_body_size == 10'000'000);
  CHECK(!o.client.paths.merge_slashes);
  CHECK(o.client.paths.slashes == gantry::http::encoded_slashes::keep);
  CHECK(o.upstream.connect_timeout == 250ms);
  CHECK(o.upstream.response_timeout == 1h);
  CHECK(o.upstream.response_limits.max_header_section == 128 * 1024);
  CHECK(o.upstream.response_limits.max_field_count ==
        gantry::http::parser_limits{}.max_field_count);
  CHECK(o.upstream.pool.max_idle_per_endpoint == 8);
  CHECK(o.upstream.pool.idle_timeout == 10s);
  CHECK(o.upstream.pool.max_exchanges_per_connection == 100);
  REQUIRE(doc.gateway.clusters.size() == 2);
  CHECK(doc.gateway.clusters[0].name == "users");
  CHECK(doc.gateway.clusters[0].endpoints ==
        std::vector<std::string>{"10.0.0.7:8080", "users.internal:80"});
  CHECK(doc.gateway.clusters[1].endpoints == std::vector<std::string>{"[2001:db8::1]:443"});
}

TEST_CASE("config load: YAML syntax errors are located") {
  CHECK(problems("routes: [\n  {name: a\n") == "t.yaml:3:1: end of map flow not found");
  CHECK(problems("routes:\n  - a\n - b\n") == "t.yaml:3:2: end of map not found");
  CHECK(problems("workers: 2\n\tlisten: []\n") ==
        "t.yaml:2:1: illegal tab when looking for indentation");
  CHECK(problems("a: *nowhere\n") == "t.yaml:1:4: the referenced anchor is not defined");
  CHECK(problems("clusters: []\n---\nworkers: 3\n") ==
        "t.yaml:2:1: a configuration is one YAML document; this is a second one");
  // yaml-cpp's own multi-document loop never ends on these.
  CHECK(problems(",") == "t.yaml:1:1: unexpected ','");
  CHECK(problems("routes: []\n...\n,\n") == "t.yaml:3:1: unexpected ','");
}

TEST_CASE("config load: unknown fields, with a suggestion when one is close") {
  CHECK(problems("rutes: []\n") ==
        "t.yaml:1:1: rutes: unknown field 'rutes' (did you mean 'routes'?)");
  CHECK(problems(R"(
routes:
  - name: a
    match:
      hots: example.com
      path: {prefx: /a}
    cluster: c
    host-rewrite: b.example.com
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}]
)") == "t.yaml:5:7: routes[0].match.hots: unknown field 'hots' (did you mean 'host'?)\n"
       "t.yaml:6:14: routes[0].match.path.prefx: unknown field 'prefx' (did you mean 'prefix'?)\n"
       "t.yaml:8:5: routes[0].host-rewrite: unknown field 'host-rewrite' (did you mean "
       "'host_rewrite'?)");
  // Nothing close: the message lists the fields there are.
  CHECK(problems("admin: {port: 9901}\n") ==
        "t.yaml:1:8: admin.listen: required field is missing\n"
        "t.yaml:1:9: admin.port: unknown field 'port'; the fields here are listen");
  CHECK(problems("upstream:\n  pool: {colour: blue}\n") ==
        "t.yaml:2:10: upstream.pool.colour: unknown field 'colour'; the fields here are "
        "max_idle_per_endpoint, idle_timeout and max_exchanges_per_connection");
}

TEST_CASE("config load: a field given twice, and keys that are not strings") {
  CHECK(problems("workers: 2\nworkers: 3\n") ==
        "t.yaml:2:1: workers: given twice (first on line 1)");
  CHECK(problems("? [a]\n: 1\n") == "t.yaml:1:3: a field name must be a string, got a list");
}

TEST_CASE("config load: wrong types") {
  CHECK(problems("- a\n- b\n") == "t.yaml:1:1: expected a map, got a list");
  CHECK(problems("listen: \"127.0.0.1:8080\"\n") ==
        "t.yaml:1:9: listen: expected a list, got '127.0.0.1:8080'");
  CHECK(problems("workers: [1]\n") == "t.yaml:1:10: workers: expected an integer, got a list");
  CHECK(problems("workers: many\n") == "t.yaml:1:10: workers: expected an integer, got 'many'");
  CHECK(problems("clusters: {name: a}\n") == "t.yaml:1:11: clusters: expected a list, got a map");
  CHECK(problems("drain_timeout:\n") == "t.yaml:1:1: drain_timeout: expected a duration, got null");
  CHECK(problems(R"(
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}]
routes:
  - match: /users
    cluster: c
    host_rewrite: {a: b}
    timeout: [1s]
    tags: team
    forward_proxy_credentials: yes
)") == "t.yaml:4:12: routes[0].match: expected a map, got '/users'\n"
       "t.yaml:6:19: routes[0].host_rewrite: expected a string, got a map\n"
       "t.yaml:7:14: routes[0].timeout: expected a duration, got a list\n"
       "t.yaml:8:11: routes[0].tags: expected a list, got 'team'\n"
       "t.yaml:9:32: routes[0].forward_proxy_credentials: expected true or false, got 'yes'");
  CHECK(problems(R"(
policies:
  - name: ids
    type: request-id
    config: {echo: maybe}
)") == "t.yaml:5:20: policies[0].config.echo: expected true or false, got 'maybe'");
}

TEST_CASE("config load: missing required fields") {
  CHECK(problems(R"(
clusters:
  - name: users
  - endpoints: ["10.0.0.1:80"]
routes:
  - match: {path: {prefix: /}}
  - name: old
    redirect: {status: 301}
  - name: empty-path
    match: {path: {}}
    cluster: users
policies:
  - name: p
)") == "t.yaml:3:5: clusters[0].endpoints: required field is missing\n"
       "t.yaml:4:5: clusters[1].name: required field is missing\n"
       "t.yaml:6:5: routes[0]: give one of cluster, split, redirect or direct\n"
       "t.yaml:8:15: routes[1].redirect.location: required field is missing\n"
       "t.yaml:10:19: routes[2].match.path: give one of exact, prefix, template or regex\n"
       "t.yaml:13:5: policies[0]: give one of type or chain");
}

TEST_CASE("config load: bad values") {
  SUBCASE("durations") {
    CHECK(problems("drain_timeout: 10 sec\n") ==
          "t.yaml:1:16: drain_timeout: bad duration '10 sec': write whole numbers with units "
          "ms, s, m or h, e.g. 250ms, 10s, 1m30s");
    CHECK(problems("client: {body_timeout: 10}\n") ==
          "t.yaml:1:24: client.body_timeout: bad duration '10': give it a unit: ms, s, m or h "
          "(e.g. 10s)");
    CHECK(problems("client: {body_timeout: 0}\n") ==
          "t.yaml:1:24: client.body_timeout: must be more than 0");
    CHECK(problems("upstream: {connect_timeout: -1s}\n") ==
          "t.yaml:1:29: upstream.connect_timeout: bad duration '-1s': write whole numbers with "
          "units ms, s, m or h, e.g. 250ms, 10s, 1m30s");
  }
  SUBCASE("path normalisation") {
    CHECK(problems("client: {paths: {encoded_slashes: decode}}\n") ==
          "t.yaml:1:35: client.paths.encoded_slashes: unknown value 'decode': give reject or "
          "keep");
    CHECK(problems("client: {paths: {merge_slashes: 2}}\n") ==
          "t.yaml:1:33: client.paths.merge_slashes: expected true or false, got '2'");
  }
  SUBCASE("numbers and sizes") {
    CHECK(problems("workers: 5000\n") == "t.yaml:1:10: workers: must be from 0 to 1024, got 5000");
    CHECK(problems("client: {max_connections: 0}\n") ==
          "t.yaml:1:27: client.max_connections: must be at least 1");
    CHECK(problems("client: {max_requests_per_connection: -1}\n") ==
          "t.yaml:1:39: client.max_requests_per_connection: must be from 0 to 4294967295, got -1");
    CHECK(problems("buffer_size: 12XB\n") ==
          "t.yaml:1:14: buffer_size: bad byte size '12XB': write a whole number of bytes, "
          "optionally with a unit (KiB, MiB, GiB, KB, MB, GB), e.g. 64KiB");
    CHECK(problems("buffer_size: 100\n") ==
          "t.yaml:1:14: buffer_size: must be at least 1024 bytes");
  }
  SUBCASE("addresses") {
    CHECK(problems(R"(
listen: ["localhost", "127.0.0.1:70000", "::1:80", "[::g]:80"]
admin: {listen: "a b:80"}
clusters:
  - {name: c, endpoints: [":80", "10.0.0.1:0"]}
)") == "t.yaml:2:10: listen[0]: 'localhost' is not an address: write HOST:PORT, e.g. "
       "127.0.0.1:8080\n"
       "t.yaml:2:23: listen[1]: bad address '127.0.0.1:70000': the port must be a number from 0 "
       "to 65535\n"
       "t.yaml:2:42: listen[2]: bad address '::1:80': write an IPv6 address in brackets, e.g. "
       "[::1]:8080\n"
       "t.yaml:2:52: listen[3]: bad address '[::g]:80': '::g' is not an IPv6 address\n"
       "t.yaml:3:17: admin.listen: bad address 'a b:80': 'a b' is not a host name or IP address\n"
       "t.yaml:5:27: clusters[0].endpoints[0]: bad address ':80': the host is missing\n"
       "t.yaml:5:34: clusters[0].endpoints[1]: bad address '10.0.0.1:0': the port must be a "
       "number from 1 to 65535");
    CHECK(problems("clusters: [{name: c, endpoints: []}]\n") ==
          "t.yaml:1:33: clusters[0].endpoints: a cluster needs at least one endpoint");
  }
  SUBCASE("methods and statuses") {
    CHECK(problems(R"(
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}]
routes:
  - match: {methods: [GET, get, GTE, BREW], path: {prefix: /}}
    cluster: c
  - match: {path: {prefix: /old}}
    redirect: {status: 200, location: /new}
  - match: {path: {prefix: /mock}}
    direct: {status: 700}
  - match: {path: {prefix: /gone}}
    direct: {status: 304, body: gone}
)") == "t.yaml:4:28: routes[0].match.methods[1]: unknown method 'get' (did you mean 'GET'?)\n"
       "t.yaml:4:33: routes[0].match.methods[2]: unknown method 'GTE' (did you mean 'GET'?)\n"
       "t.yaml:4:38: routes[0].match.methods[3]: unknown method 'BREW'\n"
       "t.yaml:7:24: routes[1].redirect.status: bad status 200: a redirect is 301, 302, 303, 307 "
       "or 308\n"
       "t.yaml:9:22: routes[2].direct.status: bad status 700: a direct response is 200 to 599\n"
       "t.yaml:11:13: routes[3].direct: a 304 response has no body");
  }
  SUBCASE("matchers, splits, rewrites and direct fields") {
    CHECK(problems(R"(
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}]
routes:
  - match:
      path: {prefix: /a, exact: /a}
      headers: [{name: X-A, exact: "1", regex: "[0-9]"}, {exact: "2"}, {name: X-B, present: false}]
    cluster: c
  - match: {path: {prefix: /b}}
    split: [{cluster: c, weight: 0}]
    sticky: {header: X-User, cookie: s}
  - match: {path: {prefix: /c}}
    cluster: c
    sticky: {cookie: s}
    rewrite: {strip_prefix: api}
  - match: {path: {prefix: /d}}
    direct: {headers: {"Bad Name": x}, body: a, body_file: b.txt}
)") == "t.yaml:5:26: routes[0].match.path.exact: give only one of exact, prefix, template or "
       "regex; 'prefix' is given already\n"
       "t.yaml:6:41: routes[0].match.headers[0].regex: give only one of exact, present or regex; "
       "'exact' is given already\n"
       "t.yaml:6:58: routes[0].match.headers[1].name: required field is missing\n"
       "t.yaml:6:93: routes[0].match.headers[2].present: only 'present: true' is a condition; "
       "to accept any request, leave the condition out\n"
       "t.yaml:9:12: routes[1].split: the weights add up to 0: give at least one cluster a "
       "weight\n"
       "t.yaml:10:30: routes[1].sticky.cookie: give only one of header or cookie; 'header' is "
       "given already\n"
       "t.yaml:13:13: routes[2].sticky: only a split can be sticky\n"
       "t.yaml:14:29: routes[2].rewrite.strip_prefix: expected a path prefix starting with '/', "
       "or true for the route's own prefix\n"
       "t.yaml:16:36: routes[3].direct.headers.Bad Name: 'Bad Name' is not a field name (an RFC "
       "9110 token)\n"
       "t.yaml:16:60: routes[3].direct.body_file: give the body inline or from a file, not both");
  }
}

TEST_CASE("config load: references to undeclared clusters and policies point at the reference") {
  CHECK(problems(R"(
clusters:
  - {name: users, endpoints: ["10.0.0.1:80"]}
  - {name: orders, endpoints: ["10.0.0.2:80"]}
policies:
  - {name: request-ids, type: request-id}
listener_policies: [request-ids, audit]
routes:
  - match: {path: {prefix: /users}}
    cluster: user
    policies: [request-id]
  - match: {path: {prefix: /orders}}
    split:
      - {cluster: orders}
      - {cluster: payments, weight: 2}
)") == "t.yaml:7:34: listener_policies[1]: no policy named 'audit' is declared\n"
       "t.yaml:10:14: routes[0].cluster: no cluster named 'user' is declared (did you mean "
       "'users'?)\n"
       "t.yaml:11:16: routes[0].policies[0]: no policy named 'request-id' is declared (did you "
       "mean 'request-ids'?)\n"
       "t.yaml:15:19: routes[1].split[1].cluster: no cluster named 'payments' is declared");
}

TEST_CASE("config load: policy declarations") {
  CHECK(problems(R"(
policies:
  - {name: a, type: request-id, chain: [{type: headers}]}
  - {name: b, chain: [], config: {}}
  - {name: c, chain: [{type: nope}, request-id, {config: {}}]}
  - {name: "", type: headers}
routes: [{direct: {}, policies: [a, b, c]}]
)") == "t.yaml:3:33: policies[0].chain: give only one of type or chain; 'type' is given "
       "already\n"
       "t.yaml:4:22: policies[1].chain: a chain needs at least one policy\n"
       "t.yaml:4:34: policies[1].config: a chain's policies each have their own config\n"
       "t.yaml:5:30: policies[2].chain[0].type: unknown policy type 'nope'; the types are "
       "access-log, direct-response, headers, metrics, metrics-endpoint and request-id\n"
       "t.yaml:5:37: policies[2].chain[1]: expected a map, got 'request-id'\n"
       "t.yaml:5:49: policies[2].chain[2].type: required field is missing\n"
       "t.yaml:6:12: policies[3].name: must not be empty");
}

TEST_CASE("config load: names used twice") {
  CHECK(problems(R"(
clusters:
  - {name: a, endpoints: ["10.0.0.1:80"]}
  - {name: a, endpoints: ["10.0.0.2:80"]}
policies:
  - {name: p, type: request-id}
  - {name: p, type: headers}
routes:
  - {name: r, match: {path: {prefix: /x}}, cluster: a}
  - {name: r, match: {path: {prefix: /y}}, cluster: a}
)") == "t.yaml:4:12: clusters[1].name: another cluster is named 'a' (line 3); names must be "
       "unique\n"
       "t.yaml:7:12: policies[1].name: another policy is named 'p' (line 6); names must be "
       "unique\n"
       "t.yaml:10:12: routes[1].name: another route is named 'r' (line 9); names must be unique");
}

TEST_CASE("config load: what the route table refuses is reported at the routes concerned") {
  CHECK(problems(R"(
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}]
routes:
  - name: users
    match: {path: {template: "/users/{id}"}}
    cluster: c
  - name: users-again
    match: {path: {template: "/users/{user}"}}
    cluster: c
  - match: {path: {regex: "/(unclosed"}}
    cluster: c
  - name: rewrite
    match: {path: {template: "/items/{id}"}}
    cluster: c
    rewrite: {template: "/v2/{item}"}
)") == "t.yaml:4:5: routes[0]: routes 'users' and 'users-again' (line 7) conflict: same host "
       "\"*\", path template \"/users/{}\", same methods and the same header and query "
       "conditions\n"
       "t.yaml:10:5: routes[2]: route #3: path regex \"/(unclosed\": missing ): /(unclosed\n"
       "t.yaml:12:5: routes[3]: route 'rewrite': rewrite template \"/v2/{item}\" uses {item}, "
       "which the route's path does not capture");
}

TEST_CASE("config load: what a policy's constructor refuses is located at its field") {
  CHECK(problems(R"(
policies:
  - name: ids
    type: request-id
    config:
      header: "Bad Header"
      max_length: 500
  - name: edits
    type: headers
    config:
      request:
        set: {X-Ok: fine, X-Broken: "{nope"}
  - name: mock
    type: direct-response
    config: {status: 200, body_file: no-such-file.json}
)") == "t.yaml:6:15: policies[0].config.header: must be a field name (an RFC 9110 token)\n"
       "t.yaml:7:19: policies[0].config.max_length: must be between 1 and 128\n"
       "t.yaml:12:37: policies[1].config.request.set[1].value: unclosed '{' (write {{ for a "
       "literal brace)\n"
       "t.yaml:15:38: policies[2].config.body_file: cannot read 'no-such-file.json': No such "
       "file or directory");
}

TEST_CASE("config load: every problem is reported at once, in document order") {
  const std::string yaml = R"(
listen: ["127.0.0.1"]
workers: lots
clusters:
  - {name: users, endpoints: ["10.0.0.1:80"]}
routes:
  - name: users
    match: {path: {prefix: /users}, methods: [FETCH]}
    cluster: userz
    timeout: soon
  - name: bad
    mach: {path: {prefix: /bad}}
    cluster: users
)";
  try {
    load_string(yaml, "gantry.yaml");
    FAIL("loaded");
  } catch (const gantry::config::error& e) {
    const auto& all = e.diagnostics();
    REQUIRE(all.size() == 6);
    CHECK(all[0] == gantry::config::diagnostic{.file = "gantry.yaml",
                                               .line = 2,
                                               .column = 10,
                                               .path = "listen[0]",
                                               .message = "'127.0.0.1' is not an address: write "
                                                          "HOST:PORT, e.g. 127.0.0.1:8080"});
    CHECK(all[1].path == "workers");
    CHECK(all[2].path == "routes[0].match.methods[0]");
    CHECK(all[3].path == "routes[0].cluster");
    CHECK(all[4].path == "routes[0].timeout");
    CHECK(all[5].path == "routes[1].mach");
    CHECK(all[5].line == 12);
    CHECK(all[5].column == 5);
    CHECK(all[5].message == "unknown field 'mach' (did you mean 'match'?)");
    // what() is every diagnostic, one per line.
    std::string expected;
    for (const auto& d : all) expected += (expected.empty() ? "" : "\n") + d.to_string();
    CHECK(std::string{e.what()} == expected);
    // A std::runtime_error, for callers that catch those.
    const std::runtime_error& base = e;
    CHECK(std::string{base.what()}.starts_with("gantry.yaml:2:10: listen[0]: "));
  }
}

TEST_CASE("config load: load_file reads relative files next to the configuration") {
  const auto dir = std::filesystem::temp_directory_path() / "gantry_config_load_test";
  std::filesystem::create_directories(dir / "mocks");
  {
    std::ofstream{dir / "mocks" / "users.json"} << R"({"users":[]})";
    std::ofstream{dir / "gantry.yaml"} << R"(
routes:
  - match: {path: {exact: /users}}
    direct:
      headers: {Content-Type: application/json}
      body_file: mocks/users.json
  - match: {path: {exact: /missing}}
    direct: {body_file: mocks/missing.json}
)";
  }
  try {
    gantry::config::load_file(dir / "gantry.yaml");
    FAIL("loaded");
  } catch (const gantry::config::error& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].file == (dir / "gantry.yaml").string());
    CHECK(e.diagnostics()[0].path == "routes[1].direct.body_file");
    CHECK(e.diagnostics()[0].message ==
          "cannot read '" + (dir / "mocks/missing.json").string() + "': No such file or directory");
  }
  { std::ofstream{dir / "mocks" / "missing.json"} << "{}"; }
  document doc = gantry::config::load_file(dir / "gantry.yaml");
  REQUIRE(doc.gateway.routes.size() == 2);
  auto* direct = std::get_if<gantry::route::direct_response>(&doc.gateway.routes[0].action);
  REQUIRE(direct);
  CHECK(direct->body == R"({"users":[]})");
  CHECK(direct->headers.get("Content-Type") == "application/json");

  // load_string resolves against base_directory.
  gantry::config::load_options options;
  options.base_directory = dir;
  doc = load_string("routes: [{direct: {body_file: mocks/users.json}}]", "s", options);
  CHECK(std::get<gantry::route::direct_response>(doc.gateway.routes[0].action).body ==
        R"({"users":[]})");

  // A body file or a configuration that never ends is refused, not read forever.
  CHECK(problems("routes: [{direct: {body_file: /dev/zero}}]\n") ==
        "t.yaml:1:31: routes[0].direct.body_file: cannot read '/dev/zero': larger than "
        "16777216 bytes");
  try {
    gantry::config::load_file("/dev/zero");
    FAIL("loaded");
  } catch (const gantry::config::error& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].message == "cannot read the file: larger than 67108864 bytes");
  }
  try {
    gantry::config::load_file(dir);
    FAIL("loaded");
  } catch (const gantry::config::error& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].message == "cannot read the file: is a directory");
  }
  std::filesystem::remove_all(dir);

  try {
    gantry::config::load_file(dir / "gantry.yaml");
    FAIL("loaded");
  } catch (const gantry::config::error& e) {
    CHECK(std::string{e.what()} ==
          (dir / "gantry.yaml").string() + ": cannot read the file: No such file or directory");
  }
}

TEST_CASE("config load: hostile input is reported, never a crash") {
  const std::string cases[] = {
      "routes: &a [*a]\n",
      "routes: &a [{match: *a}]\n",
      "policies: &p [{name: x, chain: *p}]\n",
      std::string(5000, '[') + std::string(5000, ']'),
      std::string(5000, '{'),
      "workers: 99999999999999999999999999\n",
      "buffer_size: 99999999999999999999GiB\n",
      "drain_timeout: 9999999999999999h\n",
      std::string("listen: [\"\0\x01\xff:80\"]\n", 19),
      "\xef\xbb\xbf\xff\xfe\x00\x00garbage: [\n",
      "? {a: b}\n: c\nroutes: [{? [x]\n : y}]\n",
      "routes:\n  - !!binary aGVsbG8=\n",
      "routes: [{match: {path: {template: '/{a}/{a}/{*b}/{c}'}}, direct: {}}]\n",
  };
  for (const std::string& text : cases) {
    CAPTURE(text);
    CHECK_THROWS_AS(load_string(text, "t.yaml"), gantry::config::error);
  }
}

TEST_CASE("config load: control bytes stay inside their problem's line") {
  // Found by the config_load fuzz target: keys, YAML's messages and the route table's quote
  // what they were given, and what() is one problem per line, as a C string.
  CHECK(problems("\"a\\nb\": 1\n").starts_with("t.yaml:1:1: a\\x0ab: unknown field 'a\\x0ab'"));
  CHECK(problems(std::string{"a: \"\\\0\"\n", 8}) == "t.yaml:1:7: unknown escape character: \\x00");
  CHECK(problems("routes: [{match: {path: {template: \"/a\\n{b\"}}, direct: {}}]\n") ==
        "t.yaml:1:10: routes[0]: route #1: path template \"/a\\x0a{b\": segment \"a\\x0a{b\": a "
        "parameter must be a whole segment, like {id}");
  for (const std::string text :
       {"\"a\\nb\": 1\n", "clusters: [{\"\\r\": 1, \"\\r\": 2}]\n",
        "policies: [{name: l, type: access-log, config: {fields: [\"a\\nb\"]}}]\n"}) {
    CAPTURE(text);
    const std::string found = problems(text);
    CHECK_FALSE(found.empty());
    CHECK(found.find_first_of(std::string_view{"\r\0", 2}) == std::string::npos);
    std::istringstream lines{found};
    for (std::string line; std::getline(lines, line);) CHECK(line.starts_with("t.yaml:"));
  }
}

TEST_CASE("config load: aliases cannot make a small document cost a lot") {
  // 200 policies, each a chain of 200 header policies, each setting 200 fields: 8 million
  // fields from 3 kB of text ("billion laughs").
  auto repeat = [](std::string_view alias) {
    std::string list = "[";
    for (int i = 0; i < 200; ++i) list.append(i ? ", " : "").append(alias);
    return list + "]";
  };
  const std::string text =
      "field: &f {name: X-A, value: b}\n"
      "fields: &s " +
      repeat("*f") +
      "\n"
      "link: &l {type: headers, config: {request: {set: *s}}}\n"
      "links: &c " +
      repeat("*l") +
      "\n"
      "policy: &p {name: p, chain: *c}\n"
      "policies: " +
      repeat("*p") + "\n";
  const std::string found = problems(text);
  CHECK(found.find("t.yaml: the document is too large once its aliases (*name) are expanded") !=
        std::string::npos);
}

TEST_CASE("config load: past 1000 problems, the rest are counted") {
  std::string text = "listen: [";
  for (int i = 0; i < 1500; ++i) text += i ? ", bad" : "bad";
  text += "]\n";
  try {
    load_string(text, "t.yaml");
    FAIL("loaded");
  } catch (const gantry::config::error& e) {
    REQUIRE(e.diagnostics().size() == 1001);
    CHECK(e.diagnostics().back().to_string() == "t.yaml: and 500 more problems");
  }
}

TEST_CASE("config load: mutated examples load or report, never crash") {
  // A cheap stand-in for the fuzz target: the example configuration, with bytes flipped,
  // inserted and removed at random (fixed seed).
  const std::string seed = R"(
listen: ["127.0.0.1:8080"]
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}, {name: d, endpoints: ["10.0.0.2:80"]}]
policies: [{name: ids, type: request-id, config: {header: X-Id}}]
listener_policies: [ids]
routes:
  - name: a
    match: {host: "*.example.com", methods: [GET], path: {template: "/u/{id}"},
            headers: [{name: X, exact: "1"}], query: [{name: q, present: true}]}
    split: [{cluster: c, weight: 9}, {cluster: d, weight: 1}]
    sticky: {cookie: s}
    rewrite: {template: "/v2/{id}"}
    timeout: 2s
  - {name: b, match: {path: {prefix: /b}}, redirect: {status: 301, location: "/c"}}
  - {name: m, match: {path: {exact: /m}}, direct: {status: 200, body: ok}}
)";
  std::mt19937 random{12345};
  const std::string alphabet = "{}[]:,-&*!|>'\"#\n ?abcz0123456789/.";
  int loaded = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = seed;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = random() % text.size();
      switch (random() % 3) {
        case 0:
          text[at] = alphabet[random() % alphabet.size()];
          break;
        case 1:
          text.insert(at, 1, alphabet[random() % alphabet.size()]);
          break;
        default:
          text.erase(at, 1);
      }
    }
    try {
      load_string(text, "t.yaml");
      ++loaded;
    } catch (const gantry::config::error& e) {
      for (const auto& d : e.diagnostics()) {
        CAPTURE(text);
        CHECK_FALSE(d.message.empty());
        CHECK(d.line >= 0);
      }
    }
  }
  CHECK(loaded > 0);
}

TEST_CASE("config load: named listeners with their addresses, client options, policies, routes") {
  document doc = load_string(R"(
listen: [":8080"]
client: {request_head_timeout: 5s, max_connections: 50}
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}]
policies: [{name: ids, type: request-id}]
routes: [{name: health, match: {path: {exact: /healthz}}, cluster: c}]
listeners:
  - name: internal
    listen: ["127.0.0.1:9000", "[::1]:9000"]
    client: {keepalive_timeout: 2s, request_limits: {max_body_size: 1KiB}}
    listener_policies: [ids]
    routes:
      - {name: health, match: {path: {exact: /healthz}}, direct: {}}
      - {name: api, match: {path: {prefix: /api}}, cluster: c}
  - name: bare
    listen: ["127.0.0.1:9001"]
)",
                             "t.yaml");
  CHECK(config_test::addresses(doc) == std::vector<std::string>{":8080"});
  CHECK(config_test::addresses(doc, "internal") ==
        std::vector<std::string>{"127.0.0.1:9000", "[::1]:9000"});
  CHECK(config_test::addresses(doc, "bare") == std::vector<std::string>{"127.0.0.1:9001"});
  REQUIRE(doc.listen.size() == 4);
  REQUIRE(doc.gateway.listeners.size() == 2);

  const auto& internal = doc.listen[1];
  CHECK(internal.options.name == "internal");
  CHECK(doc.listen[2].options.client.has_value());
  REQUIRE(internal.options.client.has_value());
  CHECK(internal.options.client->keepalive_timeout == 2s);
  CHECK(internal.options.client->request_limits.max_body_size == 1024);
  CHECK(internal.options.client->request_head_timeout == 5s);  // the file's own, underneath
  CHECK(doc.options.client.keepalive_timeout == 60s);           // which the listener left alone
  const auto& internal_config = doc.gateway.listeners[0];
  CHECK(internal_config.name == "internal");
  CHECK(internal_config.listener_policies == std::vector<std::string>{"ids"});
  REQUIRE(internal_config.routes.size() == 2);
  CHECK(internal_config.routes[0].name == "health");  // a name the file's routes use too
  CHECK(std::holds_alternative<gantry::route::direct_response>(internal_config.routes[0].action));

  CHECK_FALSE(doc.listen[3].options.client.has_value());
  CHECK_FALSE(doc.listen[0].options.client.has_value());
  CHECK(doc.gateway.listeners[1].routes.empty());
  CHECK(doc.gateway.listener_policies.empty());
}

TEST_CASE("config load: what is wrong with a named listener is located") {
  CHECK(problems(R"(
admin: {listen: "127.0.0.1:9901"}
clusters: [{name: c, endpoints: ["10.0.0.1:80"]}]
listeners:
  - name: admin
    listen: ["127.0.0.1:1"]
  - name: x
    listen: []
    client: {max_connections: 5}
    listener_policies: [nope]
  - name: x
    routes:
      - {name: a, match: {path: {template: "/u/{id}"}}, cluster: c}
      - {name: b, match: {path: {template: "/u/{v}"}}, cluster: gone}
  - {name: "", listen: ["nohost"], port: 1}
)") == "t.yaml:5:11: listeners[0].name: the name \"admin\" is the admin listener's "
       "(admin.listen)\n"
       "t.yaml:8:13: listeners[1].listen: a listener needs at least one address\n"
       "t.yaml:9:31: listeners[1].client.max_connections: counts every listener's connections: "
       "set it in the top-level client\n"
       "t.yaml:10:25: listeners[1].listener_policies[0]: no policy named 'nope' is declared\n"
       "t.yaml:11:5: listeners[2].listen: required field is missing\n"
       "t.yaml:11:11: listeners[2].name: another listener is named 'x' (line 7); names must be "
       "unique\n"
       "t.yaml:13:9: listeners[2].routes[0]: routes 'a' and 'b' (line 14) conflict: same host "
       "\"*\", path template \"/u/{}\", same methods and the same header and query conditions\n"
       "t.yaml:14:65: listeners[2].routes[1].cluster: no cluster named 'gone' is declared\n"
       "t.yaml:15:12: listeners[3].name: must not be empty\n"
       "t.yaml:15:25: listeners[3].listen[0]: 'nohost' is not an address: write HOST:PORT, e.g. "
       "127.0.0.1:8080\n"
       "t.yaml:15:36: listeners[3].port: unknown field 'port'; the fields here are name, listen, "
       "client, listener_policies and routes");
}

TEST_CASE("config load: listen entries with TLS, files read as the gateway will") {
  gantry::testing::test_pki pki;
  const auto api = pki.issue("api.example.com", {"api.example.com"});
  const auto other = pki.issue("other.example.com", {"other.example.com"});
  gantry::config::load_options options;
  options.base_directory = pki.dir().path();  // relative file names start there
  document doc = load_string(fmt::format(R"(
listen:
  - ":8080"
  - address: ":8443"
    tls:
      certificates: [{{cert: {}, key: {}}}]
      client_ca: ca.pem
      client_certificates: optional
      alpn: [http/1.1]
clusters: [{{name: c, endpoints: ["10.0.0.1:80"]}}]
listeners:
  - name: internal
    listen: [{{address: "127.0.0.1:9443", tls: {{certificates: [{{cert: {}, key: {}}}]}}}}]
)",
                                         api.chain.filename().string(), api.key.string(),
                                         other.chain.string(), other.key.string()),
                             "t.yaml", options);
  REQUIRE(doc.listen.size() == 3);
  CHECK(doc.listen[0].options.tls.empty());
  CHECK(doc.listen[1].options.tls == ":8443");
  CHECK(doc.listen[2].options.tls == "127.0.0.1:9443");
  CHECK(doc.listen[2].options.name == "internal");
  REQUIRE(doc.gateway.tls.size() == 2);
  const auto& tls = doc.gateway.tls[0];
  CHECK(tls.name == ":8443");
  REQUIRE(tls.settings.certificates.size() == 1);
  CHECK(tls.settings.certificates[0].cert == api.chain.string());  // made absolute
  CHECK(tls.settings.client_ca == pki.ca().string());
  CHECK(tls.settings.client_certificates == gantry::net::client_certificate_mode::optional);
  CHECK_FALSE(tls.settings.strict_sni);
  CHECK(doc.warnings.empty());
  // What the loader accepts, the gateway serves.
  gantry::gateway gw{doc.options};
  CHECK_NOTHROW(gw.reload(doc.gateway));
}

TEST_CASE("config load: an expired certificate is served, with a warning at its field") {
  gantry::testing::test_pki pki;
  const auto old = pki.issue_expired("old.example.com");
  const auto api = pki.issue("api.example.com", {"api.example.com"});
  document doc = load_string(fmt::format(R"(
listen:
  - address: ":8443"
    tls:
      strict_sni: true
      certificates:
        - {{cert: {0}, key: {1}}}
        - {{cert: {2}, key: {3}}}
clusters:
  - name: c
    endpoints: ["10.0.0.1:443"]
    tls: {{ca: {4}, server_name: api.internal, certificate: {{cert: {2}, key: {3}}}}}
)",
                                         api.chain.string(), api.key.string(), old.chain.string(),
                                         old.key.string(), pki.ca().string()),
                             "t.yaml");
  REQUIRE(doc.gateway.tls.size() == 1);
  CHECK(doc.gateway.tls[0].settings.strict_sni);
  REQUIRE(doc.warnings.size() == 2);
  const std::string expired = old.chain.string() +
                              ": the certificate for old.example.com expired on 2020-01-02 "
                              "00:00:00 UTC; clients will refuse it";
  CHECK(
      doc.warnings[0].to_string().starts_with("t.yaml:8:18: listen[0].tls.certificates[1].cert: "));
  CHECK(doc.warnings[0].message == expired);
  CHECK(doc.warnings[1].path == "clusters[0].tls.certificate.cert");
  CHECK(doc.warnings[1].line == 12);
  CHECK(doc.warnings[1].message == expired);
  // Served all the same.
  gantry::gateway gw{doc.options};
  CHECK_NOTHROW(gw.reload(doc.gateway));
}

TEST_CASE("config load: what is wrong with TLS settings is located at its field") {
  gantry::testing::test_pki pki;
  const auto api = pki.issue("api.example.com", {"api.example.com"});
  const auto other = pki.issue("other.example.com", {"other.example.com"});
  const std::string text = problems(fmt::format(R"(
clusters: [{{name: c, endpoints: ["10.0.0.1:80"]}}]
listen:
  - address: ":1"
    tls: {{certificates: []}}
  - address: ":2"
    tls:
      certificates: [{{cert: {0}}}, {{cert: /nonexistent.pem, key: {1}}}]
      client_certificates: sometimes
      ciphers: [all]
  - address: ":3"
    tls:
      certificates: [{{cert: {0}, key: {2}}}]
      client_certificates: required
)",
                                                api.chain.string(), api.key.string(),
                                                other.key.string()));
  INFO(text);
  CHECK(text.find("t.yaml:5:25: listen[0].tls.certificates: at least one is required") !=
        std::string::npos);
  CHECK(text.find("t.yaml:8:22: listen[1].tls.certificates[0].key: required field is missing") !=
        std::string::npos);
  CHECK(text.find("t.yaml:9:28: listen[1].tls.client_certificates: unknown value 'sometimes'") !=
        std::string::npos);
  CHECK(text.find("t.yaml:10:7: listen[1].tls.ciphers: unknown field 'ciphers'") !=
        std::string::npos);
  // At the key's value, on line 13 (its column depends on the temporary directory's name).
  const auto mismatch = text.find(" listen[2].tls.certificates[0].key: " + other.key.string() +
                                  " is not the key of the certificate in " + api.chain.string());
  REQUIRE(mismatch != std::string::npos);
  CHECK(text.rfind("t.yaml:13:", mismatch) == text.rfind('\n', mismatch) + 1);
  CHECK(text.find("t.yaml:13:7: listen[2].tls.client_ca: required when client certificates are asked for") !=
        std::string::npos);
}

TEST_CASE("config load: a cluster's TLS, its files read as the gateway will") {
  gantry::testing::test_pki pki;
  const auto client = pki.issue("svc-a", {"svc-a.internal"});
  document doc = load_string(fmt::format(R"(
clusters:
  - name: secure
    endpoints: ["10.0.0.1:443"]
    tls:
      ca: {}
      server_name: api.internal
      certificate: {{cert: {}, key: {}}}
      alpn: [http/1.1]
  - {{name: plain, endpoints: ["10.0.0.2:80"]}}
)",
                                         pki.ca().string(), client.chain.string(),
                                         client.key.string()),
                             "t.yaml");
  REQUIRE(doc.gateway.clusters.size() == 2);
  REQUIRE(doc.gateway.clusters[0].tls.has_value());
  const auto& tls = *doc.gateway.clusters[0].tls;
  CHECK(tls.ca == pki.ca().string());
  CHECK(tls.server_name == "api.internal");
  CHECK(tls.verify);
  CHECK(tls.certificate.key == client.key.string());
  CHECK_FALSE(doc.gateway.clusters[1].tls.has_value());

  CHECK(problems(R"(
clusters:
  - name: secure
    endpoints: ["api.internal:443"]
    tls: {ca: /nonexistent/ca.pem, certificate: {cert: /nonexistent/c.pem}, verify: maybe}
)") == "t.yaml:5:49: clusters[0].tls.certificate.key: required field is missing\n"
       "t.yaml:5:85: clusters[0].tls.verify: expected true or false, got 'maybe'");
  CHECK(problems(R"(
clusters:
  - name: secure
    endpoints: ["api.internal:443"]
    tls: {ca: /nonexistent/ca.pem}
)") == "t.yaml:5:15: clusters[0].tls.ca: /nonexistent/ca.pem: cannot read the file");
  // A certificate names hosts: an address needs the name to verify, or no verifying.
  CHECK(problems(fmt::format(R"(
clusters:
  - name: secure
    endpoints: ["api.internal:443", "10.0.0.1:443"]
    tls: {{ca: {}}}
)",
                             pki.ca().string())) ==
        "t.yaml:5:10: clusters[0].tls.server_name: required, as endpoint '10.0.0.1:443' is an "
        "IP address");
  CHECK(problems(R"(
clusters:
  - name: open
    endpoints: ["10.0.0.1:443"]
    tls: {verify: false}
)") == "");
}
