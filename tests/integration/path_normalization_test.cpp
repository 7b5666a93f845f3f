// Path normalisation in the proxy flow: a route protected by a policy cannot be reached by
// spelling its path another way, and the upstream receives the normalised path.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "common.hpp"
#include "gantry/gateway/gateway.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/route/route.hpp"

namespace {

using namespace gantry::testing;
using namespace std::chrono_literals;
namespace route = gantry::route;
namespace policy = gantry::policy;

// A gateway in front of `upstream`: /admin and below answered 403 by a route policy (an ACL
// stand-in), everything else proxied.
struct guarded_gateway : running_gateway {
  guarded_gateway(const stub_upstream& upstream, gantry::http::path_normalization paths)
      : running_gateway{gantry::gateway_options{.workers = 1, .client = {.paths = paths}}} {
    gw.cluster("app", {upstream.address()});
    gw.policy("deny", policy::chain{}.add(policy::direct_response_config{
                          .status = gantry::http::status::forbidden, .body = "no\n"}));
    route::route admin;
    admin.name = "admin";
    admin.match.path = route::path_prefix{"/admin"};
    admin.policies = {"deny"};
    admin.action = route::proxy{"app"};
    gw.route(std::move(admin));
    route::route rest;
    rest.name = "rest";
    rest.match.path = route::path_prefix{"/"};
    rest.action = route::proxy{"app"};
    gw.route(std::move(rest));
    start();
  }
};

}  // namespace

TEST_CASE("path normalisation: a protected route cannot be reached by another spelling") {
  stub_upstream upstream{stub::echo()};
  guarded_gateway g{upstream, {}};

  for (std::string_view target :
       {"/admin", "/public/../admin", "/%61dmin", "//admin", "/admin/./users", "/x/%2e%2e/admin",
        "/%2E%2e/admin/", "/public/..//admin", "///admin?x=1"}) {
    CAPTURE(target);
    auto r = get(g.port, target);
    CHECK(r.status() == 403);
  }
  // An encoded slash could be decoded by the upstream into a path never routed: refused.
  for (std::string_view target :
       {"/admin%2F", "/admin%2f", "/public%2F..%2Fadmin", "/a%5Cb", "/%zz", "/admin%"}) {
    CAPTURE(target);
    auto d = after(10s);
    tcp_client c{g.port, d};
    REQUIRE(c.send(make_request("GET", target), d));
    auto r = c.read_response(d);
    CHECK(r.status() == 400);
    CHECK(c.wait_for_close(d));
  }
  CHECK(upstream.request_count() == 0);

  // What is forwarded is the normalised target; the query is left as the client wrote it.
  auto r = get(g.port, "/public/./docs/../%7Euser//page%3f?next=/a/../b");
  CHECK(r.status() == 200);
  CHECK(r.body == "GET /public/~user/page%3F?next=/a/../b");
}

TEST_CASE("path normalisation: encoded slashes kept and slashes not merged when configured") {
  stub_upstream upstream{stub::echo()};
  guarded_gateway g{upstream,
                    {.merge_slashes = false, .slashes = gantry::http::encoded_slashes::keep}};

  auto r = get(g.port, "/files/a%2fb%5C/./c");
  CHECK(r.status() == 200);
  CHECK(r.body == "GET /files/a%2Fb%5C/c");
  r = get(g.port, "/public//x/./y");
  CHECK(r.body == "GET /public//x/y");
  CHECK(get(g.port, "/public/../admin").status() == 403);  // dots are still resolved
}
