// Routes and policy chains in the proxy flow: an in-process gateway on loopback in front of
// stub upstreams, driven by a raw client.
#include <doctest/doctest.h>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "gantry/core/async.hpp"
#include "gantry/gateway/gateway.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/headers.hpp"
#include "gantry/route/route.hpp"

namespace {

using namespace gantry::testing;
using namespace std::chrono_literals;
namespace route = gantry::route;
namespace policy = gantry::policy;

// Answers 401 unless the request carries X-Api-Key.
struct require_key {
  policy::verdict on_request_head(policy::exchange& ex) const {
    if (ex.request.fields.contains("X-Api-Key")) return policy::verdict::continue_;
    return ex.respond(gantry::http::status::unauthorized, "no key\n", "text/plain");
  }
};

// Suspends on a timer before letting the request on, and marks it.
struct slow_lookup {
  static asio::awaitable<policy::verdict> lookup(policy::exchange& ex) {
    asio::steady_timer timer{co_await asio::this_coro::executor, 20ms};
    co_await timer.async_wait(gantry::core::use_tuple);
    ex.request.fields.set("X-Looked-Up", "yes");
    co_return policy::verdict::continue_;
  }
  policy::outcome on_request_head(policy::exchange& ex) const { return lookup(ex); }
};

// Upper-cases both bodies, piece by piece, in its per-exchange state.
struct shout {
  struct state {
    std::string request;
    std::string response;
  };
  static std::string_view upper(std::string_view in, std::string& out) {
    out.assign(in);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  }
  policy::verdict on_request_body(policy::exchange&, policy::body_chunk& c, state& s) const {
    c.data = upper(c.data, s.request);
    return policy::verdict::continue_;
  }
  policy::verdict on_response_body(policy::exchange&, policy::body_chunk& c, state& s) const {
    c.data = upper(c.data, s.response);
    return policy::verdict::continue_;
  }
};

// What the log phase saw, one record per exchange.
struct log_record {
  std::string route, cluster, endpoint;
  int status = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  bool timed = false;  // response head, then end, read from the exchange's clock
};

struct recorder {
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<log_record>> records = std::make_shared<std::vector<log_record>>();

  void on_log(policy::exchange& ex) const {
    std::lock_guard lock{*mutex};
    records->push_back({std::string{ex.route_name}, std::string{ex.cluster},
                        std::string{ex.endpoint}, static_cast<int>(ex.response.status),
                        ex.request_bytes, ex.response_bytes,
                        ex.timings.response_head >= ex.timings.start &&
                            ex.timings.end >= ex.timings.response_head});
  }
  std::vector<log_record> taken() const {
    std::lock_guard lock{*mutex};
    return *records;
  }
};

route::route proxy_route(std::string name, route::path_matcher path, std::string cluster) {
  route::route r;
  r.name = std::move(name);
  r.match.path = std::move(path);
  r.action = route::proxy{std::move(cluster)};
  return r;
}

}  // namespace

TEST_CASE("routes: each request goes where its route says, on one keep-alive connection") {
  stub_upstream users{stub::echo()};
  stub_upstream items{stub::echo()};
  running_gateway g;
  g.gw.cluster("users", {users.address()}).cluster("items", {items.address()});
  g.gw.policy("stamp", policy::chain{}.add(
                           policy::headers_config{.response = {.set = {{"X-Gateway", "gantry"}}}}));
  g.gw.use("stamp");
  g.gw.route(proxy_route("users", route::path_prefix{"/users"}, "users"));
  route::route item = proxy_route("item", route::path_template{"/items/{id}"}, "items");
  item.rewrite = route::template_rewrite{"/v2/items/{id}"};
  g.gw.route(std::move(item));
  route::route health;
  health.name = "health";
  health.match.path = route::path_exact{"/health"};
  health.action = route::direct_response{.status = gantry::http::status::ok, .body = "up\n"};
  g.gw.route(std::move(health));
  route::route old;
  old.name = "old";
  old.match.path = route::path_template{"/old/{rest}"};
  old.action = route::redirect{.status = gantry::http::status::moved_permanently,
                               .location = "https://new.example/{rest}"};
  g.gw.route(std::move(old));
  g.start();

  auto d = after(10s);
  tcp_client c{g.port, d};
  auto ask = [&](std::string_view target) {
    REQUIRE(c.send(make_request("GET", target), d));
    return c.read_response(d);
  };

  auto r = ask("/users/7");
  CHECK(r.status() == 200);
  CHECK(r.body == "GET /users/7");
  CHECK(r.header("X-Gateway") == "gantry");

  r = ask("/items/42?full=1");
  CHECK(r.status() == 200);
  CHECK(r.body == "GET /v2/items/42?full=1");  // the query goes along with the rewrite

  r = ask("/health");
  CHECK(r.status() == 200);
  CHECK(r.body == "up\n");
  CHECK(r.header("X-Gateway") == "gantry");  // local answers pass the listener's policies

  r = ask("/old/a/b");
  CHECK(r.status() == 404);  // a {param} is one segment: no route takes two
  r = ask("/old/page");
  CHECK(r.status() == 301);
  CHECK(r.header("Location") == "https://new.example/page");

  r = ask("/nowhere");
  CHECK(r.status() == 404);
  CHECK(r.header("X-Gateway") == "gantry");
  CHECK(r.keep_alive);

  CHECK(users.request_count() == 1);
  CHECK(items.request_count() == 1);
  CHECK(!c.wait_for_close(after(100ms)));  // every answer kept the connection
}

TEST_CASE("routes: host rewrite keeps the client's Host in X-Forwarded-Host") {
  stub_upstream up{stub::echo()};
  running_gateway g;
  g.gw.cluster("up", {up.address()});
  route::route r = proxy_route("r", route::path_prefix{"/"}, "up");
  r.host_rewrite = "internal.svc";
  g.gw.route(std::move(r));
  g.start();

  CHECK(get(g.port, "/x").status() == 200);
  auto seen = up.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("Host") == "internal.svc");
  CHECK(seen[0].header("X-Forwarded-Host") == "test");
}

TEST_CASE("routes: proxy credentials stop at the gateway unless the route forwards them") {
  stub_upstream up{stub::fixed(407, "", {"Proxy-Authenticate: Basic realm=\"upstream\""})};
  running_gateway g;
  g.gw.cluster("up", {up.address()});
  g.gw.route(proxy_route("default", route::path_prefix{"/default"}, "up"));
  route::route keep = proxy_route("keep", route::path_prefix{"/keep"}, "up");
  keep.forward_proxy_credentials = true;
  g.gw.route(std::move(keep));
  g.start();

  const std::vector<std::string> credentials{"Proxy-Authorization: Basic dXNlcjpwYXNz",
                                             "Authorization: Bearer end-to-end"};
  auto by_default = fetch(g.port, make_request("GET", "/default", credentials));
  CHECK(by_default.status() == 407);
  CHECK_FALSE(by_default.head.fields.contains("Proxy-Authenticate"));
  auto kept = fetch(g.port, make_request("GET", "/keep", credentials));
  CHECK(kept.status() == 407);
  CHECK(kept.header("Proxy-Authenticate") == "Basic realm=\"upstream\"");

  REQUIRE(up.wait_for_requests(2, after(5s)));
  auto seen = up.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].head.target == "/default");
  CHECK_FALSE(seen[0].head.fields.contains("Proxy-Authorization"));
  CHECK(seen[0].header("Authorization") == "Bearer end-to-end");
  CHECK(seen[1].head.target == "/keep");
  CHECK(seen[1].header("Proxy-Authorization") == "Basic dXNlcjpwYXNz");
  CHECK(seen[1].header("Authorization") == "Bearer end-to-end");
}

TEST_CASE("routes: a weighted split spreads by weight; a sticky key pins each client") {
  stub_upstream stable{stub::fixed(200, "stable")};
  stub_upstream canary{stub::fixed(200, "canary")};
  running_gateway g{{.workers = 1, .random_seed = 20261126}};
  g.gw.cluster("stable", {stable.address()}).cluster("canary", {canary.address()});
  route::route r;
  r.name = "split";
  r.action = route::weighted_split{.clusters = {{"stable", 80}, {"canary", 20}},
                                   .sticky = route::sticky_key{.name = "X-User"}};
  g.gw.route(std::move(r));
  g.start();

  auto d = after(30s);
  tcp_client c{g.port, d};
  std::map<std::string, int> served;
  constexpr int requests = 1000;
  for (int i = 0; i < requests; ++i) {
    REQUIRE(c.send(make_request("GET", "/"), d));
    ++served[c.read_response(d).body];
  }
  // Binomial(1000, 0.2): mean 200, standard deviation 12.6; the bounds are 4.7 of them.
  CHECK(served["canary"] > 140);
  CHECK(served["canary"] < 260);
  CHECK(served["stable"] + served["canary"] == requests);

  int on_canary = 0;
  for (int user = 0; user < 200; ++user) {
    std::string first;
    for (int again = 0; again < 3; ++again) {
      REQUIRE(c.send(make_request("GET", "/", {"X-User: u" + std::to_string(user)}), d));
      std::string body = c.read_response(d).body;
      if (again == 0) first = body;
      CHECK(body == first);
    }
    on_canary += first == "canary" ? 1 : 0;
  }
  CHECK(on_canary > 15);  // sticky users spread by weight too (mean 40)
  CHECK(on_canary < 75);
}

TEST_CASE("policies: a local answer, a suspended phase and body transforms in the proxy flow") {
  stub_upstream up{stub::echo()};
  running_gateway g;
  g.gw.cluster("up", {up.address()});
  g.gw.policy("key", policy::chain{}.add(require_key{}));
  g.gw.policy("lookup", policy::chain{}.add(slow_lookup{}));
  g.gw.policy("shout", policy::chain{}.add(shout{}));
  route::route r = proxy_route("api", route::path_prefix{"/"}, "up");
  r.policies = {"key", "lookup", "shout"};
  g.gw.route(std::move(r));
  g.start();

  auto d = after(10s);
  tcp_client c{g.port, d};
  REQUIRE(c.send(make_request("GET", "/private"), d));
  auto denied = c.read_response(d);
  CHECK(denied.status() == 401);
  CHECK(denied.body == "no key\n");
  CHECK(denied.keep_alive);  // no body was left unread: the connection goes on
  CHECK(up.request_count() == 0);

  REQUIRE(c.send(make_request("POST", "/private", {"X-Api-Key: k"}, "hello body"), d));
  auto ok = c.read_response(d);
  CHECK(ok.status() == 200);
  CHECK(ok.body == "POST /PRIVATE");  // the echo, upper-cased on its way back
  CHECK(ok.chunked);                  // a body phase may change the length
  auto seen = up.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("X-Looked-Up") == "yes");
  CHECK(seen[0].body == "HELLO BODY");
  CHECK(seen[0].chunked);

  // A request with a body that is refused: the body is never read, so the connection ends.
  REQUIRE(c.send(make_request("POST", "/private", {}, "unread"), d));
  auto refused = c.read_response(d);
  CHECK(refused.status() == 401);
  CHECK(refused.header("Connection") == "close");
  CHECK(c.wait_for_close(d));
}

TEST_CASE("routes: a route's timeout answers 504 before the upstream's own timeout") {
  stub_upstream up{stub::never_answer()};
  running_gateway g;
  g.gw.cluster("up", {up.address()});
  route::route r = proxy_route("slow", route::path_prefix{"/"}, "up");
  r.timeout = 300ms;
  g.gw.route(std::move(r));
  g.start();

  const auto started = std::chrono::steady_clock::now();
  auto res = get(g.port, "/");
  CHECK(res.status() == 504);
  CHECK(std::chrono::steady_clock::now() - started < 5s);  // not the 60 s default
}

TEST_CASE("policies: the log phase sees route, cluster, endpoint, status and bytes") {
  stub_upstream up{stub::fixed(200, "twelve bytes")};
  running_gateway g;
  recorder rec;
  g.gw.cluster("backend", {up.address()});
  g.gw.policy("log", policy::chain{}.add(rec));
  g.gw.use("log");
  g.gw.route(proxy_route("api", route::path_prefix{"/api"}, "backend"));
  g.start();

  const std::string request = make_request("POST", "/api/x", {}, "0123456789");
  auto res = fetch(g.port, request);
  CHECK(res.status() == 200);
  CHECK(get(g.port, "/other").status() == 404);

  // The log runs after the response is written: give the worker a moment.
  eventually([&] { return rec.taken().size() >= 2; }, after(5s));
  auto records = rec.taken();
  REQUIRE(records.size() == 2);
  CHECK(records[0].route == "api");
  CHECK(records[0].cluster == "backend");
  CHECK(records[0].endpoint == up.address());
  CHECK(records[0].status == 200);
  CHECK(records[0].bytes_in == request.size());
  CHECK(records[0].bytes_out > 12);
  CHECK(records[0].timed);
  CHECK(records[1].route.empty());
  CHECK(records[1].cluster.empty());
  CHECK(records[1].status == 404);
}

TEST_CASE("reload: new exchanges take the new snapshot, exchanges in flight keep theirs") {
  stub_upstream blue{stub::gated()};
  stub_upstream green{stub::fixed(200, "green")};
  running_gateway g;
  g.gw.cluster("blue", {blue.address()});
  g.gw.route(proxy_route("all", route::path_prefix{"/"}, "blue"));
  g.start();
  CHECK(g.gw.generation() == 1);

  // An exchange in flight on blue, held at the upstream.
  auto d = after(10s);
  tcp_client in_flight{g.port, d};
  REQUIRE(in_flight.send(make_request("GET", "/held"), d));
  REQUIRE(blue.wait_for_requests(1, d));

  gantry::gateway_config next;
  next.clusters = {{.name = "green", .endpoints = {green.address()}}};
  next.routes = {proxy_route("all", route::path_prefix{"/"}, "green")};
  g.gw.reload(next);
  CHECK(g.gw.generation() == 2);

  // Workers switch between two turns of their loop: poll until the new route answers.
  CHECK(eventually([&] { return get(g.port, "/new").body == "green"; }, d));

  blue.open_gate();
  auto held = in_flight.read_response(d);
  CHECK(held.status() == 200);
  CHECK(held.body == "GET /held");  // finished on blue, the snapshot it started with
  // The same keep-alive connection's next exchange takes the newest snapshot.
  REQUIRE(in_flight.send(make_request("GET", "/after"), d));
  CHECK(in_flight.read_response(d).body == "green");

  // A configuration that does not compile changes nothing.
  gantry::gateway_config broken = next;
  broken.routes.push_back(proxy_route("lost", route::path_prefix{"/lost"}, "nowhere"));
  CHECK_THROWS_WITH_AS(g.gw.reload(broken), doctest::Contains("'nowhere'"), std::invalid_argument);
  CHECK(g.gw.generation() == 2);
  CHECK(get(g.port, "/lost").body == "green");
}

TEST_CASE("config: every problem is reported at once, naming what is wrong") {
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  gantry::gateway_config config;
  config.clusters = {{.name = "a", .endpoints = {"127.0.0.1:1"}},
                     {.name = "a", .endpoints = {"127.0.0.1:2"}}};
  config.listener_policies = {"missing-policy"};
  config.routes = {proxy_route("one", route::path_prefix{"/"}, "ghost")};
  config.routes.back().policies = {"also-missing"};
  try {
    gw.reload(config);
    FAIL("reload accepted a broken configuration");
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    CHECK(what.find("cluster 'a' is declared twice") != std::string::npos);
    CHECK(what.find("'missing-policy'") != std::string::npos);
    CHECK(what.find("route 'one' uses policy 'also-missing'") != std::string::npos);
    CHECK(what.find("route 'one' sends to cluster 'ghost'") != std::string::npos);
  }
}

namespace {

// Breaks the contract: throws instead of answering with a status.
struct throws_on_request {
  policy::verdict on_request_head(policy::exchange&) const {
    throw std::runtime_error("policy bug");
  }
};

}  // namespace

TEST_CASE("policies: a policy that throws gets the client a 500, and the log phase runs") {
  stub_upstream up{stub::echo()};
  running_gateway g;
  recorder rec;
  g.gw.cluster("up", {up.address()});
  g.gw.policy("log", policy::chain{}.add(rec));
  g.gw.policy("bug", policy::chain{}.add(throws_on_request{}));
  g.gw.use("log");
  route::route r = proxy_route("buggy", route::path_prefix{"/"}, "up");
  r.policies = {"bug"};
  g.gw.route(std::move(r));
  g.start();

  auto res = get(g.port, "/");
  CHECK(res.status() == 500);
  CHECK(up.request_count() == 0);
  CHECK(eventually([&] { return rec.taken().size() == 1; }, after(5s)));
  auto records = rec.taken();
  REQUIRE(records.size() == 1);
  CHECK(records[0].status == 500);
  CHECK(records[0].route == "buggy");
}
