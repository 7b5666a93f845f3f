#include "gantry/http/serializer.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "gantry/http/parser.hpp"
#include "parse_transcript.hpp"

using gantry::http::chunk_terminator;
using gantry::http::headers;
using gantry::http::http_1_0;
using gantry::http::method;
using gantry::http::parser_mode;
using gantry::http::request;
using gantry::http::response;
using gantry::http::serialize_chunk_size;
using gantry::http::serialize_head;
using gantry::http::serialize_last_chunk;
using gantry::http::serialize_response;
using gantry::http::status;
using gantry::test::check_every_split;
using gantry::test::field_list;
using gantry::test::responses;
using gantry::test::to_list;
using gantry::test::transcript;

TEST_CASE("serializer: request head, byte for byte") {
  request req{method::post, "/v1/items?x=1"};
  req.fields.add("Host", "api.example.com");
  req.fields.add("Content-Length", "2");
  req.fields.add("accept", "a");
  req.fields.add("Accept", "b");
  std::string out;
  serialize_head(req, out);
  CHECK(out ==
        "POST /v1/items?x=1 HTTP/1.1\r\n"
        "Host: api.example.com\r\n"
        "Content-Length: 2\r\n"
        "accept: a\r\n"
        "Accept: b\r\n"
        "\r\n");

  SUBCASE("appends to what the buffer holds") {
    std::string buffer = "previous";
    serialize_head(request{method::get, "/"}, buffer);
    CHECK(buffer == "previousGET / HTTP/1.1\r\n\r\n");
  }
  SUBCASE("HTTP/1.0, other methods and target forms") {
    request options{method::options, "*"};
    options.version = http_1_0;
    std::string o;
    serialize_head(options, o);
    CHECK(o == "OPTIONS * HTTP/1.0\r\n\r\n");

    request connect{method::connect, "example.com:443"};
    std::string c;
    serialize_head(connect, c);
    CHECK(c == "CONNECT example.com:443 HTTP/1.1\r\n\r\n");

    request search{method::msearch, "*"};
    std::string s;
    serialize_head(search, s);
    CHECK(s == "M-SEARCH * HTTP/1.1\r\n\r\n");
  }
  SUBCASE("framing fields are written as they are") {
    request chunked{method::put, "/f"};
    chunked.fields.add("Transfer-Encoding", "chunked");
    std::string out2;
    serialize_head(chunked, out2);
    CHECK(out2 == "PUT /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
  SUBCASE("empty values") {
    request empty{method::get, "/"};
    empty.fields.add("X-Empty", "");
    std::string out3;
    serialize_head(empty, out3);
    CHECK(out3 == "GET / HTTP/1.1\r\nX-Empty: \r\n\r\n");
  }
}

TEST_CASE("serializer: response head, byte for byte") {
  response res{status::not_found};
  res.fields.add("Content-Type", "text/plain");
  res.fields.add("Content-Length", "0");
  std::string out;
  serialize_head(res, out);
  CHECK(out ==
        "HTTP/1.1 404 Not Found\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Length: 0\r\n"
        "\r\n");

  SUBCASE("a received reason phrase is kept") {
    response custom{status::ok};
    custom.reason = "Fine Thanks";
    std::string o;
    serialize_head(custom, o);
    CHECK(o == "HTTP/1.1 200 Fine Thanks\r\n\r\n");
  }
  SUBCASE("an empty reason becomes the standard phrase") {
    for (auto [s, line] :
         {std::pair{status::ok, "HTTP/1.1 200 OK\r\n"},
          std::pair{status::continue_, "HTTP/1.1 100 Continue\r\n"},
          std::pair{status::no_content, "HTTP/1.1 204 No Content\r\n"},
          std::pair{status::payload_too_large, "HTTP/1.1 413 Content Too Large\r\n"},
          std::pair{status::http_version_not_supported,
                    "HTTP/1.1 505 HTTP Version Not Supported\r\n"}}) {
      CAPTURE(line);
      std::string o;
      serialize_head(response{s}, o);
      CHECK(o == std::string{line} + "\r\n");
    }
  }
  SUBCASE("an unregistered code gets \"Unknown\"") {
    std::string o;
    serialize_head(response{static_cast<status>(599)}, o);
    CHECK(o == "HTTP/1.1 599 Unknown\r\n\r\n");
  }
  SUBCASE("HTTP/1.0") {
    response old{status::ok};
    old.version = http_1_0;
    std::string o;
    serialize_head(old, o);
    CHECK(o == "HTTP/1.0 200 OK\r\n\r\n");
  }
}

TEST_CASE("serializer: chunk size lines are lowercase hex") {
  struct line {
    std::size_t size;
    std::string_view text;
  };
  for (auto [size, text] :
       {line{0, "0\r\n"}, line{1, "1\r\n"}, line{9, "9\r\n"}, line{10, "a\r\n"}, line{15, "f\r\n"},
        line{16, "10\r\n"}, line{255, "ff\r\n"}, line{4096, "1000\r\n"}, line{0x1a2b, "1a2b\r\n"},
        line{0xdeadbeef, "deadbeef\r\n"}}) {
    CAPTURE(size);
    std::string out = "x";
    serialize_chunk_size(size, out);
    CHECK(std::string_view{out}.substr(1) == text);
  }
  CHECK(chunk_terminator == "\r\n");
}

TEST_CASE("serializer: last chunk with and without trailers") {
  std::string plain;
  serialize_last_chunk(headers{}, plain);
  CHECK(plain == "0\r\n\r\n");

  headers trailers;
  trailers.add("Checksum", "abc");
  trailers.add("Server-Timing", "db;dur=53");
  std::string out;
  serialize_last_chunk(trailers, out);
  CHECK(out == "0\r\nChecksum: abc\r\nServer-Timing: db;dur=53\r\n\r\n");
}

TEST_CASE("serializer: a chunked message the parser reads back") {
  request req{method::post, "/stream"};
  req.fields.add("Host", "h");
  req.fields.add("Transfer-Encoding", "chunked");
  std::string out;
  serialize_head(req, out);
  for (std::string_view piece : {std::string_view{"hello"}, std::string_view{", "},
                                 std::string_view{"a somewhat longer piece of data"}}) {
    serialize_chunk_size(piece.size(), out);
    out.append(piece);
    out.append(chunk_terminator);
  }
  headers trailers;
  trailers.add("Digest", "sha-256=x");
  serialize_last_chunk(trailers, out);

  transcript t = check_every_split(out);
  REQUIRE(t.messages.size() == 1);
  CHECK(t.messages[0].body == "hello, a somewhat longer piece of data");
  CHECK(t.messages[0].trailers == field_list{{"Digest", "sha-256=x"}});
  CHECK_FALSE(t.error);
}

TEST_CASE("serializer: serialize_response frames a body with Content-Length") {
  SUBCASE("sets Content-Length from the body") {
    response res{status::ok};
    res.fields.add("Content-Type", "text/plain");
    std::string out;
    serialize_response(res, "hello", out);
    CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  }
  SUBCASE("replaces a wrong Content-Length in place and drops Transfer-Encoding") {
    response res{status::bad_gateway};
    res.fields.add("Content-Length", "999");
    res.fields.add("Transfer-Encoding", "chunked");
    res.fields.add("content-length", "7");
    res.fields.add("X-Id", "1");
    std::string out;
    serialize_response(res, "upstream failed", out);
    CHECK(out ==
          "HTTP/1.1 502 Bad Gateway\r\n"
          "Content-Length: 15\r\n"
          "X-Id: 1\r\n"
          "\r\n"
          "upstream failed");
  }
  SUBCASE("an empty body is Content-Length: 0") {
    std::string out;
    serialize_response(response{status::not_found}, "", out);
    CHECK(out == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }
  SUBCASE("the caller's response is not modified") {
    response res{status::ok};
    res.fields.add("Transfer-Encoding", "chunked");
    std::string out;
    serialize_response(res, "x", out);
    CHECK(res.fields.get("Transfer-Encoding") == "chunked");
    CHECK_FALSE(res.fields.contains("Content-Length"));
  }
  SUBCASE("204 and 304 get no Content-Length and no body") {
    for (status s : {status::no_content, status::not_modified, status::continue_}) {
      CAPTURE(static_cast<int>(s));
      response res{s};
      res.fields.add("Content-Length", "3");
      res.fields.add("Transfer-Encoding", "chunked");
      res.fields.add("ETag", "\"v\"");
      std::string out;
      serialize_response(res, "abc", out);
      std::string expected;
      serialize_head(response{s}, expected);
      expected.insert(expected.size() - 2, "ETag: \"v\"\r\n");
      CHECK(out == expected);
      CHECK(out.find("Content-Length") == std::string::npos);
      CHECK(out.find("abc") == std::string::npos);
    }
  }
  SUBCASE("the parser reads the result back") {
    response res{static_cast<status>(201)};
    res.fields.add("Location", "/items/1");
    std::string out;
    serialize_response(res, "{\"id\":1}", out);
    serialize_response(response{status::no_content}, "ignored", out);
    transcript t = check_every_split(out, responses());
    REQUIRE(t.messages.size() == 2);
    CHECK(t.messages[0].status == 201);
    CHECK(t.messages[0].reason == "Created");
    CHECK(t.messages[0].body == "{\"id\":1}");
    CHECK(t.messages[0].content_length == 8u);
    CHECK(t.messages[1].status == 204);
    CHECK(t.messages[1].body.empty());
    CHECK_FALSE(t.error);
  }
}

TEST_CASE("serializer: round trip of heads through the parser") {
  SUBCASE("request") {
    request req{method::patch, "/a/b?c=d&e=%20"};
    req.fields.add("Host", "example.com");
    req.fields.add("X-Empty", "");
    req.fields.add("Cookie", "a=1");
    req.fields.add("cookie", "b=2");
    req.fields.add("Content-Length", "0");
    std::string wire;
    serialize_head(req, wire);
    transcript t = check_every_split(wire);
    REQUIRE(t.messages.size() == 1);
    CHECK(t.messages[0].method == "PATCH");
    CHECK(t.messages[0].target == req.target);
    CHECK(t.messages[0].major == 1);
    CHECK(t.messages[0].minor == 1);
    CHECK(t.messages[0].fields == to_list(req.fields));

    // And back again: the parsed head serializes to the same bytes.
    gantry::http::parser p{parser_mode::request};
    REQUIRE(p.parse(wire).event == gantry::http::parse_event::head);
    std::string again;
    serialize_head(p.request(), again);
    CHECK(again == wire);
  }
  SUBCASE("response") {
    response res{status::too_many_requests};
    res.version = http_1_0;
    res.reason = "Slow Down";
    res.fields.add("Retry-After", "30");
    res.fields.add("Content-Length", "0");
    std::string wire;
    serialize_head(res, wire);
    transcript t = check_every_split(wire, responses());
    REQUIRE(t.messages.size() == 1);
    CHECK(t.messages[0].status == 429);
    CHECK(t.messages[0].reason == "Slow Down");
    CHECK(t.messages[0].minor == 0);
    CHECK(t.messages[0].fields == to_list(res.fields));

    gantry::http::parser p{parser_mode::response};
    REQUIRE(p.parse(wire).event == gantry::http::parse_event::head);
    std::string again;
    serialize_head(p.response(), again);
    CHECK(again == wire);
  }
}
