#include "gantry/http/forwarding.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

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
