#include "gantry/http/hop_by_hop.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using gantry::http::headers;

namespace {

std::vector<std::string> names(const headers& h) {
  std::vector<std::string> out;
  for (auto f : h) out.emplace_back(f.name);
  return out;
}

}  // namespace

TEST_CASE("hop-by-hop fields and the fields Connection names are removed") {
  headers h;
  h.add("Host", "a");
  h.add("Connection", "keep-alive, X-Secret");
  h.add("Keep-Alive", "timeout=5");
  h.add("x-secret", "1");
  h.add("TE", "trailers");
  h.add("Transfer-Encoding", "chunked");
  h.add("Upgrade", "websocket");
  h.add("Proxy-Connection", "keep-alive");
  h.add("Connection", "X-Other");
  h.add("X-Other", "2");
  h.add("Accept", "*/*");
  REQUIRE(gantry::http::remove_hop_by_hop(h));
  CHECK(names(h) == std::vector<std::string>{"Host", "Accept"});
}

TEST_CASE("Connection cannot remove Content-Length or Host (no framing smuggling)") {
  headers h;
  h.add("Host", "a");
  h.add("Content-Length", "28");
  h.add("Connection", "Content-Length, Host, close");
  REQUIRE(gantry::http::remove_hop_by_hop(h));
  CHECK(names(h) == std::vector<std::string>{"Host", "Content-Length"});
}

TEST_CASE("too many Connection options refuse the message and leave it alone") {
  headers h;
  std::string options;
  for (int i = 0; i < 40; ++i) {
    options.append("x");
    options.append(std::to_string(i));
    options.append(",");
  }
  h.add("Connection", options);
  h.add("x1", "v");
  CHECK_FALSE(gantry::http::remove_hop_by_hop(h));
  CHECK(h.size() == 2);

  SUBCASE("repeated options count once") {
    headers same;
    std::string repeated;
    for (int i = 0; i < 1000; ++i) repeated += "x-a, ";
    same.add("Connection", repeated);
    same.add("X-A", "1");
    same.add("X-B", "2");
    REQUIRE(gantry::http::remove_hop_by_hop(same));
    CHECK(names(same) == std::vector<std::string>{"X-B"});
  }
}

TEST_CASE("is_hop_by_hop knows the RFC 9110 list, case-insensitively") {
  CHECK(gantry::http::is_hop_by_hop("transfer-encoding"));
  CHECK(gantry::http::is_hop_by_hop("KEEP-ALIVE"));
  CHECK_FALSE(gantry::http::is_hop_by_hop("Trailer"));
  CHECK_FALSE(gantry::http::is_hop_by_hop("Content-Length"));
}

TEST_CASE("connection_options: what a proxy removes, hop-by-hop or named") {
  headers h;
  h.add("Connection", "keep-alive, X-A");
  h.add("connection", "x-b, Host");
  gantry::http::connection_options options;
  REQUIRE(options.read(h));
  CHECK(options.removes("X-A"));
  CHECK(options.removes("X-B"));
  CHECK(options.removes("keep-alive"));
  CHECK(options.removes("TE"));
  CHECK_FALSE(options.removes("Host"));
  CHECK_FALSE(options.removes("Content-Length"));
  CHECK_FALSE(options.removes("X-C"));

  SUBCASE("options naming hop-by-hop fields do not count against the limit") {
    std::string many = "x-only";
    for (std::size_t i = 0; i < 2 * gantry::http::max_connection_options; ++i)
      many.append(", Keep-Alive, upgrade");
    headers k;
    k.add("Connection", many);
    REQUIRE(options.read(k));
    CHECK(options.removes("X-Only"));
    CHECK_FALSE(options.removes("X-A"));  // read anew: nothing of the first message is left
  }
}

TEST_CASE("proxy credentials: removed by default, kept when asked") {
  using gantry::http::proxy_credentials;
  headers h;
  h.add("Host", "a");
  h.add("Proxy-Authorization", "Basic cDpx");
  h.add("PROXY-AUTHENTICATE", "Basic realm=\"gw\"");
  h.add("Authorization", "Bearer t");
  h.add("Proxy-Authorizatio", "not quite");
  headers kept = h;
  REQUIRE(gantry::http::remove_hop_by_hop(h));
  CHECK(names(h) == std::vector<std::string>{"Host", "Authorization", "Proxy-Authorizatio"});
  REQUIRE(gantry::http::remove_hop_by_hop(kept, proxy_credentials::keep));
  CHECK(kept.size() == 5);

  CHECK(gantry::http::is_proxy_credentials("proxy-authorization"));
  CHECK(gantry::http::is_proxy_credentials("Proxy-Authenticate"));
  CHECK_FALSE(gantry::http::is_proxy_credentials("Proxy-Connection"));
  CHECK_FALSE(gantry::http::is_hop_by_hop("Proxy-Authorization"));

  gantry::http::connection_options removing;
  gantry::http::connection_options keeping{proxy_credentials::keep};
  headers none;
  REQUIRE(removing.read(none));
  REQUIRE(keeping.read(none));
  CHECK(removing.removes("Proxy-Authorization"));
  CHECK_FALSE(keeping.removes("Proxy-Authorization"));
  CHECK(keeping.removes("Proxy-Connection"));
  headers named;
  named.add("Connection", "proxy-authenticate");
  REQUIRE(keeping.read(named));
  CHECK(keeping.removes("Proxy-Authenticate"));  // named by Connection: hop-by-hop here
  CHECK_FALSE(keeping.removes("Proxy-Authorization"));
}
