#include "gantry/http/forwarding.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "allocation_counter.hpp"

using gantry::http::parse_event;
using gantry::http::parser;
using gantry::http::parser_mode;

namespace {

// Parses a request head and returns its parser, stopped at the head.
parser head_of(std::string_view wire) {
  parser p{parser_mode::request};
  auto r = p.parse(wire);
  REQUIRE(r.event == parse_event::head);
  return p;
}

}  // namespace

TEST_CASE("forwarding: every Transfer-Encoding field's codings travel joined") {
  parser p = head_of(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nX: 1\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  auto fields = p.request().fields;
  std::string scratch;
  REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch));
  CHECK(fields.count("Transfer-Encoding") == 1);
  CHECK(fields.get("Transfer-Encoding") == "gzip, chunked");
  CHECK_FALSE(fields.contains("Content-Length"));
  CHECK(fields.get("X") == "1");
}

TEST_CASE("forwarding: Content-Length comes from the parser, not from the fields") {
  parser p = head_of(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 28\r\nConnection: Content-Length, x\r\n"
      "x: gone\r\nKeep-Alive: 5\r\n\r\n");
  auto fields = p.request().fields;
  std::string scratch;
  REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch));
  CHECK(fields.get("Content-Length") == "28");
  CHECK_FALSE(fields.contains("x"));
  CHECK_FALSE(fields.contains("Connection"));
  CHECK_FALSE(fields.contains("Keep-Alive"));
  CHECK(fields.size() == 2);  // Host, Content-Length
}

TEST_CASE("forwarding: a message without a body gets no framing field") {
  parser p = head_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  auto fields = p.request().fields;
  std::string scratch;
  REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch));
  CHECK(fields.size() == 1);
  CHECK(fields.get("Host") == "a");
}

TEST_CASE("forwarding: too many Connection options refuse the message untouched") {
  std::string wire = "GET / HTTP/1.1\r\nHost: a\r\nConnection: ";
  for (int i = 0; i < 40; ++i) {
    wire.append("o");
    wire.append(std::to_string(i));
    wire.append(",");
  }
  wire.append("\r\n\r\n");
  parser p = head_of(wire);
  auto fields = p.request().fields;
  std::string scratch;
  CHECK_FALSE(gantry::http::prepare_for_forwarding(fields, p, scratch));
  CHECK(fields.size() == 2);
}

TEST_CASE("forwarding: Content-Length stays in place when it says what was parsed") {
  parser p = head_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nHost: a\r\nX: 1\r\n\r\n");
  auto fields = p.request().fields;
  std::string scratch;
  REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch));
  std::string order;
  for (auto f : fields) order.append(f.name).append("=").append(f.value).append(";");
  CHECK(order == "Content-Length=5;Host=a;X=1;");
}

TEST_CASE("forwarding: a Content-Length written otherwise is written anew") {
  parser p = head_of("POST / HTTP/1.1\r\ncontent-length: 005\r\nHost: a\r\n\r\n");
  auto fields = p.request().fields;
  std::string scratch;
  REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch));
  CHECK(fields.count("Content-Length") == 1);
  CHECK(fields.get("Content-Length") == "5");
  CHECK((*fields.begin()).name == "Host");
}

TEST_CASE("forwarding: proxy credentials stop at the proxy unless kept") {
  using gantry::http::proxy_credentials;
  parser p = head_of(
      "GET / HTTP/1.1\r\nHost: a\r\nProxy-Authorization: Basic cDpx\r\nX: 1\r\n"
      "proxy-authorization: Basic again\r\n\r\n");
  std::string scratch;

  SUBCASE("removed by default") {
    auto fields = p.request().fields;
    REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch));
    CHECK_FALSE(fields.contains("Proxy-Authorization"));
    CHECK(fields.size() == 2);  // Host, X
  }
  SUBCASE("kept when asked, in place") {
    auto fields = p.request().fields;
    REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch, proxy_credentials::keep));
    std::string order;
    for (auto f : fields) order.append(f.name).append("=").append(f.value).append(";");
    CHECK(order == "Host=a;Proxy-Authorization=Basic cDpx;X=1;proxy-authorization=Basic again;");
  }
  SUBCASE("a Connection field naming them removes them even when kept") {
    parser q = head_of(
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Proxy-Authorization\r\n"
        "Proxy-Authorization: Basic cDpx\r\n\r\n");
    auto fields = q.request().fields;
    REQUIRE(gantry::http::prepare_for_forwarding(fields, q, scratch, proxy_credentials::keep));
    CHECK(fields.size() == 1);  // Host
  }
}

TEST_CASE("forwarding: a response's Proxy-Authenticate stops at the proxy unless kept") {
  using gantry::http::proxy_credentials;
  parser p{parser_mode::response};
  REQUIRE(p.parse("HTTP/1.1 407 Proxy Authentication Required\r\n"
                  "Proxy-Authenticate: Basic realm=\"gw\"\r\nContent-Length: 0\r\n\r\n")
              .event == parse_event::head);
  std::string scratch;
  auto fields = p.response().fields;
  REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch));
  CHECK_FALSE(fields.contains("Proxy-Authenticate"));
  CHECK(fields.get("Content-Length") == "0");

  fields = p.response().fields;
  REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch, proxy_credentials::keep));
  CHECK(fields.get("Proxy-Authenticate") == "Basic realm=\"gw\"");
}

TEST_CASE("forwarding: removing proxy credentials allocates nothing") {
  if (!gantry::test::counting_allocations) MESSAGE("allocation counting is off under ASan");
  parser p = head_of(
      "GET / HTTP/1.1\r\nHost: a\r\nProxy-Authorization: Basic cDpx\r\nConnection: x-a\r\n"
      "X-A: 1\r\nProxy-Authenticate: x\r\nAccept: */*\r\n\r\n");
  auto fields = p.request().fields;
  std::string scratch;
  const std::size_t before = gantry::test::thread_allocations();
  REQUIRE(gantry::http::prepare_for_forwarding(fields, p, scratch));
  CHECK(gantry::test::thread_allocations() == before);
  CHECK(fields.size() == 2);  // Host, Accept
}
