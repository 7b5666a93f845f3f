// The raw-bytes request conformance suite of issue 4, in the manner of HAProxy's regression
// tests: each row sends exact bytes through gantryd to a stub upstream that records every byte
// it receives, and asserts the status gantryd answers, that gantryd then closed the
// connection, and that the upstream saw nothing. A few rows are requests gantryd must accept
// but normalise: those assert the one request the upstream received.
//
// Rows are generated where one rule covers many bytes; every row has a name (shown by each
// failing check) and says why its status is the right one.
#include <doctest/doctest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"

using namespace gantry::testing;

namespace {

// What the upstream must receive for a request gantryd accepts.
struct forwarded_request {
  std::string target;
  std::string host;
  std::string transfer_encoding;  // every Transfer-Encoding value joined, "" for none
  std::string body;
};

struct conformance_case {
  std::string name;
  std::string bytes;
  int status = 400;
  // The rule that makes `status` the answer (RFC 9112 unless said otherwise).
  std::string why;
  // Set for a request that is accepted and forwarded, normalised.
  std::optional<forwarded_request> forwarded;
};

std::string hex(unsigned char b) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", b);
  return text;
}

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(static_cast<char>(c)) != std::string_view::npos;
}

// The bytes issue 4 hides framing fields behind: every control byte, SP, DEL, and two bytes
// above 0x7f (NBSP in Latin-1, and 0xff).
std::vector<unsigned char> hiding_bytes() {
  std::vector<unsigned char> bytes;
  for (int b = 0x00; b <= 0x20; ++b) bytes.push_back(static_cast<unsigned char>(b));
  for (int b : {0x7f, 0xa0, 0xff}) bytes.push_back(static_cast<unsigned char>(b));
  return bytes;
}

std::uint64_t upstream_bytes(const stub_upstream& upstream) {
  std::uint64_t total = 0;
  for (const auto& c : upstream.connections()) total += c.bytes_received;
  return total;
}

// Runs every row against one gantryd and one stub upstream that echoes.
void run_cases(const std::vector<conformance_case>& cases) {
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  for (const conformance_case& c : cases) {
    INFO("case: ", c.name, " (expected ", c.status, ": ", c.why, ")");
    const std::size_t requests_before = upstream.request_count();
    const std::uint64_t bytes_before = upstream_bytes(upstream);
    auto d = after(5s);
    tcp_client client{proxy.port(), d};
    // gantryd may answer and close before it has read everything: no REQUIRE.
    client.send(c.bytes, d);
    if (c.forwarded) {
      // The whole request is here: after it, the client is done.
      client.shutdown_send();
    }
    auto r = client.read_response(d);
    INFO("response: ", r.summary());
    CHECK(r.status() == c.status);
    CHECK(r.complete);
    std::string after_response;
    CHECK(client.wait_for_close(d, &after_response));
    CHECK(after_response.empty());
    if (!c.forwarded) {
      CHECK_FALSE(r.keep_alive);
      CHECK(upstream.request_count() == requests_before);
      CHECK(upstream_bytes(upstream) == bytes_before);
      continue;
    }
    // gantryd answered with the upstream's response and then saw the client's end: every
    // request it forwarded has been answered, so the count is final.
    REQUIRE(upstream.request_count() == requests_before + 1);
    const received_request q = upstream.requests().back();
    INFO("upstream received: ", upstream.connections().at(q.connection).received);
    const forwarded_request& f = *c.forwarded;
    CHECK(q.complete);
    CHECK(q.head.target == f.target);
    CHECK(q.head.fields.count("Host") == 1);
    CHECK(q.header("Host") == f.host);
    CHECK(q.header_list("Transfer-Encoding") == f.transfer_encoding);
    CHECK(q.body == f.body);
    if (!f.transfer_encoding.empty()) CHECK_FALSE(q.head.fields.contains("Content-Length"));
    CHECK(r.body == std::string{gantry::http::to_string(q.head.method)} + " " + f.target);
  }
  CHECK(upstream.errors().empty());
}

// A POST with the given header lines (CRLF-terminated each) and body, after "Host: a".
std::string post(std::string_view fields, std::string_view body) {
  return "POST / HTTP/1.1\r\nHost: a\r\n" + std::string{fields} + "\r\n" + std::string{body};
}

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

constexpr std::string_view chunked_hello = "5\r\nhello\r\n0\r\n\r\n";

forwarded_request chunked_forward(std::string te = "chunked") {
  return {"/", "a", std::move(te), "hello"};
}

}  // namespace

TEST_CASE("conformance: Content-Length and Transfer-Encoding framing") {
  const std::string both = "a message with both is a smuggling attempt (6.3, 6.1)";
  std::vector<conformance_case> cases{
      {"CL then TE", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", chunked_hello),
       400, both},
      {"TE then CL", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", chunked_hello),
       400, both},
      {"CL: 0 with TE", post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", chunked_hello),
       400, both},
      {"two differing CL", post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400,
       "differing lengths are invalid framing (6.3)"},
      // RFC 9112 6.3 lets a recipient take identical repeated values or lists as one; Gantry
      // (like llhttp and HAProxy's strict mode) refuses them: no sender needs them, and a
      // peer that reads only the first or last field is spared the choice.
      {"two identical CL", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), 400,
       "repeated Content-Length refused, identical or not (decision, 6.3 allows either)"},
      {"CL list of differing values", post("Content-Length: 5, 6\r\n", "hello!"), 400,
       "a list of differing lengths is invalid (6.3)"},
      {"CL list of identical values", post("Content-Length: 5, 5\r\n", "hello"), 400,
       "a list is refused even when its values agree (decision, 6.3 allows either)"},
      {"CL list with an empty element", post("Content-Length: 5,\r\n", "hello"), 400,
       "Content-Length = 1*DIGIT (RFC 9110 8.6)"},
      {"CL empty", post("Content-Length: \r\n", "hello"), 400, "Content-Length = 1*DIGIT"},
      {"CL only spaces", post("Content-Length:    \r\n", "hello"), 400, "Content-Length = 1*DIGIT"},
      {"CL plus sign", post("Content-Length: +5\r\n", "hello"), 400, "Content-Length = 1*DIGIT"},
      {"CL minus sign", post("Content-Length: -5\r\n", "hello"), 400, "Content-Length = 1*DIGIT"},
      {"CL hex", post("Content-Length: 0x5\r\n", "hello"), 400, "Content-Length = 1*DIGIT"},
      {"CL trailing letter", post("Content-Length: 5a\r\n", "hello"), 400,
       "Content-Length = 1*DIGIT"},
      {"CL decimal point", post("Content-Length: 5.0\r\n", "hello"), 400,
       "Content-Length = 1*DIGIT"},
      {"CL inner space", post("Content-Length: 5 5\r\n", "hello"), 400, "Content-Length = 1*DIGIT"},
      {"CL overflow (2^64)", post("Content-Length: 18446744073709551616\r\n", "hello"), 400,
       "a length that does not fit is invalid framing (6.3)"},
      {"CL overflow (20 nines)", post("Content-Length: 99999999999999999999\r\n", "hello"), 400,
       "a length that does not fit is invalid framing (6.3)"},
      {"CL vertical tab", post("Content-Length:\v5\r\n", "hello"), 400, "VT is not OWS (5.1)"},
      {"CL with leading zeros", post("Content-Length: 005\r\n", "hello"), 200,
       "1*DIGIT allows leading zeros; forwarded as the parsed length",
       forwarded_request{"/", "a", "", "hello"}},
      {"CL with OWS", post("Content-Length: \t5 \r\n", "hello"), 200,
       "OWS around a value is not part of it (5.1)", forwarded_request{"/", "a", "", "hello"}},
  };
  run_cases(cases);
}

TEST_CASE("conformance: Transfer-Encoding whose final coding is not one chunked") {
  const std::string not_final =
      "a request whose final coding is not chunked has no knowable length: 400 and close "
      "(6.3; this MUST beats 6.1's SHOULD 501 for an unknown coding)";
  std::vector<conformance_case> cases{
      {"TE chunked, identity", post("Transfer-Encoding: chunked, identity\r\n", chunked_hello), 400,
       not_final},
      {"TE gzip", post("Transfer-Encoding: gzip\r\n", "hello"), 400, not_final},
      {"TE identity", post("Transfer-Encoding: identity\r\n", "hello"), 400, not_final},
      {"TE xchunked", post("Transfer-Encoding: xchunked\r\n", chunked_hello), 400, not_final},
      {"TE chunkedx", post("Transfer-Encoding: chunkedx\r\n", chunked_hello), 400, not_final},
      {"TE chunked, chunked", post("Transfer-Encoding: chunked, chunked\r\n", chunked_hello), 400,
       "chunked must not be applied twice (7)"},
      {"TE chunked in two fields",
       post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunked_hello), 400,
       "chunked must not be applied twice (7)"},
      {"TE chunked then gzip in two fields",
       post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", chunked_hello), 400,
       not_final},
      {"TE empty", post("Transfer-Encoding: \r\n", chunked_hello), 400,
       "Transfer-Encoding = #transfer-coding with at least one (RFC 9110 5.6.1)"},
      {"TE comma only", post("Transfer-Encoding: ,\r\n", chunked_hello), 400,
       "Transfer-Encoding = #transfer-coding with at least one"},
      {"TE quoted", post("Transfer-Encoding: \"chunked\"\r\n", chunked_hello), 400,
       "a coding is a token, not a quoted string (7)"},
      {"TE in HTTP/1.0",
       "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
           std::string{chunked_hello},
       400, "HTTP/1.0 has no transfer codings: faulty framing (6.1)"},
      {"TE in HTTP/1.0 with CL",
       "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
       "hello",
       400, "HTTP/1.0 has no transfer codings: faulty framing (6.1)"},
      {"TE gzip, chunked", post("Transfer-Encoding: gzip, chunked\r\n", chunked_hello), 200,
       "chunked is final: the body is re-chunked, the codings under it forwarded as they are",
       chunked_forward("gzip, chunked")},
      {"TE in two fields, gzip then chunked",
       post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", chunked_hello), 200,
       "two fields are one list (RFC 9110 5.3); forwarded as one field",
       chunked_forward("gzip, chunked")},
      {"TE CHUNKED in capitals", post("Transfer-Encoding: CHUNKED\r\n", chunked_hello), 200,
       "codings are case-insensitive (7); forwarded as chunked", chunked_forward("CHUNKED")},
  };
  run_cases(cases);
}

TEST_CASE("conformance: Transfer-Encoding hidden by whitespace or control bytes") {
  // Every hiding byte at six places of "Transfer-Encoding: chunked", once beside a
  // Content-Length (a front that misses the TE frames by length, a back that finds it by
  // chunks) and once alone with a chunked body (a front that misses it forwards a bodiless
  // POST and the chunks as a second request). The "before the name" place follows another
  // field, where a leading SP or HTAB makes an obs-fold.
  enum place { before_name, inside_name, before_colon, before_value, inside_value, after_value };
  static constexpr std::string_view place_names[] = {"before the name",  "inside the name",
                                                     "before the colon", "before the value",
                                                     "inside the value", "after the value"};
  auto te_line = [](place p, char b) {
    std::string line;
    switch (p) {
      case before_name:
        return std::string(1, b) + "Transfer-Encoding: chunked";
      case inside_name:
        return "Transfer-" + std::string(1, b) + "Encoding: chunked";
      case before_colon:
        return "Transfer-Encoding" + std::string(1, b) + ": chunked";
      case before_value:
        return "Transfer-Encoding:" + std::string(1, b) + "chunked";
      case inside_value:
        return "Transfer-Encoding: chun" + std::string(1, b) + "ked";
      case after_value:
        return "Transfer-Encoding: chunked" + std::string(1, b);
    }
    return line;
  };
  std::vector<conformance_case> cases;
  for (unsigned char b : hiding_bytes()) {
    for (place p :
         {before_name, inside_name, before_colon, before_value, inside_value, after_value}) {
      const char ch = static_cast<char>(b);
      const std::string where = hex(b) + " " + std::string{place_names[p]};
      const std::string line = te_line(p, ch);
      cases.push_back({"TE with CL, " + where,
                       post("X-Pad: 1\r\n" + line + "\r\nContent-Length: 5\r\n", "0\r\n\r\n"), 400,
                       "either the line is malformed, or it is a TE beside a CL (6.3)"});
      // SP and HTAB around the value are OWS (5.1): that field is an honest chunked TE. Except
      // that llhttp sees "chunked" only when SP, a comma or the line end follows it: after
      // "chunked\t" the final coding is unknown to it, and the request is refused. A safe
      // deviation (nothing forwarded, no other reading of the body); accepting it would need
      // a lenient llhttp.
      const bool ows =
          (b == ' ' && (p == before_value || p == after_value)) || (b == '\t' && p == before_value);
      if (ows) {
        cases.push_back({"TE alone, " + where, post("X-Pad: 1\r\n" + line + "\r\n", chunked_hello),
                         200, "OWS around a value is not part of it (5.1)", chunked_forward()});
      } else {
        std::string why =
            p == before_name && (b == ' ' || b == '\t') ? "obs-fold in a request (5.2)"
            : b == '\t' && p == after_value
                ? "OWS, but llhttp does not see chunked before HTAB: refused, "
                  "never misread (a deviation on the safe side)"
            : b == '\r'         ? "bare CR (2.2)"
            : b == '\n'         ? "bare LF line end (2.2, refused by issue 4)"
            : p <= before_colon ? "a field name is a token, no whitespace before the colon (5.1)"
            : p == inside_value || b >= 0x80 ? "not a transfer coding: no knowable length (6.3)"
                                             : "a control byte in a field value (RFC 9110 5.5)";
        cases.push_back(
            {"TE alone, " + where, post("X-Pad: 1\r\n" + line + "\r\n", chunked_hello), 400, why});
      }
    }
  }
  run_cases(cases);
}

TEST_CASE("conformance: field syntax (obs-fold, bare CR and LF, names, values)") {
  std::vector<conformance_case> cases{
      {"obs-fold with SP", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", 400,
       "obs-fold in a request (5.2)"},
      {"obs-fold with HTAB", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n\ttwo\r\n\r\n", 400,
       "obs-fold in a request (5.2)"},
      {"obs-fold of an empty line", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n \r\n\r\n", 400,
       "obs-fold in a request (5.2)"},
      {"obs-fold of Host", "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", 400,
       "obs-fold in a request (5.2)"},
      {"whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400,
       "whitespace between start line and first field (2.2)"},
      {"bare CR ending the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400,
       "a CR must be followed by LF (2.2)"},
      {"bare CR ending a field line", "GET / HTTP/1.1\r\nHost: a\rX: 1\r\n\r\n", 400,
       "a CR must be followed by LF (2.2)"},
      {"bare CR before the end of a field line", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400,
       "a CR must be followed by LF (2.2)"},
      {"bare CR as the empty line", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400,
       "a CR must be followed by LF (2.2)"},
      {"bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400,
       "bare LF line end (2.2 allows it; issue 4 refuses it)"},
      {"bare LF ending a field line", "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n", 400,
       "bare LF line end (2.2 allows it; issue 4 refuses it)"},
      {"bare LF as the empty line", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400,
       "bare LF line end (2.2 allows it; issue 4 refuses it)"},
      {"bare LF everywhere", "GET / HTTP/1.1\nHost: a\n\n", 400,
       "bare LF line end (2.2 allows it; issue 4 refuses it)"},
      {"empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: value\r\n\r\n", 400,
       "a field name is a token (5.1)"},
      {"field without a colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400,
       "field-line = field-name \":\" OWS field-value OWS (5)"},
  };
  // Every byte that is not a token character, inside a field name.
  for (int i = 0; i < 256; ++i) {
    const auto b = static_cast<unsigned char>(i);
    if (is_tchar(b) || b == ':') continue;
    cases.push_back({"name byte " + hex(b),
                     "GET / HTTP/1.1\r\nHost: a\r\nX-F" + std::string(1, static_cast<char>(b)) +
                         "oo: bar\r\n\r\n",
                     400,
                     b == '\r'   ? "a CR must be followed by LF (2.2)"
                     : b == '\n' ? "bare LF line end, or a field without a colon"
                                 : "a field name is a token (5.1)"});
  }
  // NUL, CR, LF and the other controls inside a value; HTAB is allowed there.
  for (int i = 0; i <= 0x7f; ++i) {
    const auto b = static_cast<unsigned char>(i);
    if (b == '\t' || (b >= 0x20 && b < 0x7f)) continue;
    cases.push_back(
        {"value byte " + hex(b),
         "GET / HTTP/1.1\r\nHost: a\r\nX-V: a" + std::string(1, static_cast<char>(b)) + "b\r\n\r\n",
         400,
         b == '\r'   ? "a CR must be followed by LF (2.2)"
         : b == '\n' ? "bare LF line end, then a line without a colon"
                     : "field-vchar excludes controls (RFC 9110 5.5)"});
  }
  // obs-text is allowed in values (RFC 9110 5.5): accepted.
  for (int b : {0x80, 0xa0, 0xff}) {
    cases.push_back({"value byte " + hex(static_cast<unsigned char>(b)),
                     "GET /v HTTP/1.1\r\nHost: a\r\nX-V: a" + std::string(1, static_cast<char>(b)) +
                         "b\r\n\r\n",
                     200, "obs-text is allowed in field values (RFC 9110 5.5)",
                     forwarded_request{"/v", "a", "", ""}});
  }
  run_cases(cases);
}

TEST_CASE("conformance: chunked framing") {
  auto chunked = [](std::string_view body) { return post("Transfer-Encoding: chunked\r\n", body); };
  std::vector<conformance_case> cases{
      {"chunk size of 17 significant hex digits",
       chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"), 400,
       "a size past 64 bits cannot be framed (7.1)"},
      {"chunk size of 20 hex digits", chunked("fffffffffffffffffff5\r\nhello\r\n0\r\n\r\n"), 400,
       "a size past 64 bits cannot be framed (7.1)"},
      {"chunk size with a space after it", chunked("5 \r\nhello\r\n0\r\n\r\n"), 400,
       "chunk = chunk-size [ chunk-ext ] CRLF: BWS only before ';' (7.1)"},
      {"chunk size with a tab after it", chunked("5\t\r\nhello\r\n0\r\n\r\n"), 400,
       "chunk = chunk-size [ chunk-ext ] CRLF (7.1)"},
      {"chunk size with a space before it", chunked(" 5\r\nhello\r\n0\r\n\r\n"), 400,
       "chunk-size = 1*HEXDIG (7.1)"},
      {"chunk size with a sign", chunked("+5\r\nhello\r\n0\r\n\r\n"), 400,
       "chunk-size = 1*HEXDIG (7.1)"},
      {"chunk size 0x-prefixed", chunked("0x5\r\nhello\r\n0\r\n\r\n"), 400,
       "chunk-size = 1*HEXDIG (7.1)"},
      {"empty chunk size", chunked("\r\nhello\r\n0\r\n\r\n"), 400, "chunk-size = 1*HEXDIG (7.1)"},
      {"chunk size ended by bare LF", chunked("5\nhello\r\n0\r\n\r\n"), 400,
       "bare LF line end (2.2, refused by issue 4)"},
      {"oversized chunk extension (8 KiB)",
       chunked("5;ext=" + std::string(8 * 1024, 'x') + "\r\nhello\r\n0\r\n\r\n"), 400,
       "chunk extensions are limited (7.1.1 lets a recipient limit them)"},
      {"many chunk extensions (8 KiB)",
       chunked("5" + repeat(";a", 4096) + "\r\nhello\r\n0\r\n\r\n"), 400,
       "chunk extensions are limited (7.1.1 lets a recipient limit them)"},
      // RFC 9112 7.1.1 allows any number of extensions, but llhttp 8.1 refuses one that
      // follows an extension with a value. Refused, never misread: a deviation on the safe
      // side, listed so that an llhttp upgrade that lifts it is noticed.
      {"two chunk extensions with values", chunked("5;a=b;c=d\r\nhello\r\n0\r\n\r\n"), 400,
       "llhttp 8.1 refuses an extension after a valued one (a safe deviation from 7.1.1)"},
      {"chunk extension with a control byte", chunked("5;a\x01\r\nhello\r\n0\r\n\r\n"), 400,
       "chunk-ext is tokens and quoted strings (7.1.1)"},
      {"chunk data longer than its size", chunked("5\r\nhello!\r\n0\r\n\r\n"), 400,
       "chunk-data is followed by CRLF (7.1)"},
      {"no CRLF after chunk data", chunked("5\r\nhello0\r\n\r\n"), 400,
       "chunk-data is followed by CRLF (7.1)"},
      {"bare LF after chunk data", chunked("5\r\nhello\n0\r\n\r\n"), 400,
       "chunk-data is followed by CRLF (7.1)"},
      {"bare CR after chunk data", chunked("5\r\nhello\r0\r\n\r\n"), 400,
       "chunk-data is followed by CRLF (7.1)"},
      {"last chunk ended by bare LF", chunked("5\r\nhello\r\n0\n\r\n"), 400,
       "bare LF line end (2.2, refused by issue 4)"},
      {"trailer section ended by bare LF", chunked("5\r\nhello\r\n0\r\n\n"), 400,
       "bare LF line end (2.2, refused by issue 4)"},
      {"obs-fold in the trailer section", chunked("5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n"), 400,
       "obs-fold is refused in trailers as in the head (5.2, 7.1.2)"},
      {"obs-fold with HTAB in the trailer section",
       chunked("5\r\nhello\r\n0\r\nX-T: a\r\n\tb\r\n\r\n"), 400,
       "obs-fold is refused in trailers as in the head (5.2, 7.1.2)"},
      {"short chunk extension", chunked("5;name=value\r\nhello\r\n0\r\n\r\n"), 200,
       "extensions are allowed; the re-chunked body goes without them", chunked_forward()},
      // Leading zeros do not change a size; the upstream never sees the client's size line
      // (the body is re-chunked), so no reading of it can differ downstream.
      {"chunk size of 17 digits, leading zeros", chunked("00000000000000005\r\nhello\r\n0\r\n\r\n"),
       200, "the size fits 64 bits; the body is re-chunked", chunked_forward()},
  };
  run_cases(cases);
}

TEST_CASE("conformance: Host and the request target") {
  std::vector<conformance_case> cases{
      {"no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400,
       "an HTTP/1.1 request must have Host (3.2)"},
      {"two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
       "more than one Host (3.2)"},
      {"two identical Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400,
       "more than one Host (3.2)"},
      {"Host list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400,
       "Host = uri-host [ \":\" port ] (RFC 9110 7.2)"},
      {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400,
       "Host = uri-host [ \":\" port ]"},
      {"Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400,
       "Host = uri-host [ \":\" port ]"},
      {"Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400,
       "Host = uri-host [ \":\" port ]: no userinfo"},
      {"Host with a letter in the port", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", 400,
       "port = *DIGIT (RFC 3986 3.2.3)"},
      {"Host with two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400,
       "port = *DIGIT (RFC 3986 3.2.3)"},
      {"Host unclosed IPv6 literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400,
       "IP-literal = \"[\" ... \"]\" (RFC 3986 3.2.2)"},
      {"Host with a bad escape", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400,
       "pct-encoded = \"%\" HEXDIG HEXDIG (RFC 3986 2.1)"},
      {"Host with obs-text", "GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n", 400,
       "reg-name is ASCII (RFC 3986 3.2.2)"},
      {"Host with a question mark", "GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", 400,
       "Host = uri-host [ \":\" port ]"},
      {"Host with a port", "GET /p HTTP/1.1\r\nHost: a:8080\r\n\r\n", 200,
       "a valid Host, forwarded as it is", forwarded_request{"/p", "a:8080", "", ""}},
      {"Host IPv6 literal", "GET /p HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 200,
       "a valid Host, forwarded as it is", forwarded_request{"/p", "[::1]:80", "", ""}},
      {"absolute-form", "GET http://example.com/p?q=1 HTTP/1.1\r\nHost: other\r\n\r\n", 200,
       "the target's authority overrides Host (3.2.2); forwarded in origin-form",
       forwarded_request{"/p?q=1", "example.com", "", ""}},
      {"absolute-form without a path", "GET http://example.com:8080 HTTP/1.1\r\nHost: x\r\n\r\n",
       200, "an empty path is \"/\" (RFC 9110 4.2.3)",
       forwarded_request{"/", "example.com:8080", "", ""}},
      {"absolute-form, query without a path",
       "GET http://example.com?q HTTP/1.1\r\nHost: x\r\n\r\n", 200,
       "an empty path is \"/\" (RFC 9110 4.2.3)", forwarded_request{"/?q", "example.com", "", ""}},
      {"absolute-form https in capitals", "GET HTTPS://Example.com/p HTTP/1.1\r\nHost: x\r\n\r\n",
       200, "schemes are case-insensitive (RFC 3986 3.1)",
       forwarded_request{"/p", "Example.com", "", ""}},
      {"absolute-form without Host", "GET http://example.com/ HTTP/1.1\r\n\r\n", 400,
       "an HTTP/1.1 request must have Host, whatever its target (3.2)"},
      {"absolute-form with userinfo", "GET http://user@example.com/ HTTP/1.1\r\nHost: x\r\n\r\n",
       400, "userinfo in an http URI is an error (RFC 9110 4.2.4)"},
      {"absolute-form with an empty host", "GET http:///p HTTP/1.1\r\nHost: x\r\n\r\n", 400,
       "an http URI with an empty host is invalid (RFC 9110 4.2.1)"},
      {"absolute-form with another scheme", "GET ftp://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n",
       400, "a gateway for http and https only (RFC 9110 4.2)"},
      {"absolute-form with a bad authority", "GET http://a b/ HTTP/1.1\r\nHost: x\r\n\r\n", 400,
       "a space ends the target (3)"},
      {"absolute-form with an unclosed IPv6 literal",
       "GET http://[::1/ HTTP/1.1\r\nHost: x\r\n\r\n", 400,
       "IP-literal = \"[\" ... \"]\" (RFC 3986 3.2.2)"},
      {"target without a leading slash", "GET p HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "origin-form starts with \"/\" (3.2.1)"},
      {"asterisk-form for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "asterisk-form is for OPTIONS only (3.2.4)"},
  };
  // Whitespace and control bytes in the target, and bytes above 0x7f, at four places.
  for (unsigned char b : hiding_bytes()) {
    const std::string s(1, static_cast<char>(b));
    const std::string why = b == '\r'   ? "a CR must be followed by LF (2.2)"
                            : b == '\n' ? "bare LF line end (2.2, refused by issue 4)"
                            : b == ' '  ? "one SP between the parts of the request line (3)"
                                        : "a target is URI characters only (3.2, RFC 3986)";
    cases.push_back({"target byte " + hex(b) + " in the path",
                     "GET /a" + s + "b HTTP/1.1\r\nHost: a\r\n\r\n", 400, why});
    cases.push_back({"target byte " + hex(b) + " in the query",
                     "GET /a?b" + s + "c HTTP/1.1\r\nHost: a\r\n\r\n", 400, why});
    cases.push_back({"target byte " + hex(b) + " before it",
                     "GET " + s + "/a HTTP/1.1\r\nHost: a\r\n\r\n", 400, why});
    cases.push_back({"target byte " + hex(b) + " after it",
                     "GET /a" + s + " HTTP/1.1\r\nHost: a\r\n\r\n", 400, why});
  }
  run_cases(cases);
}

TEST_CASE("conformance: no Host in HTTP/1.0 is accepted; the upstream gets the endpoint's") {
  // Not a row of the table: the forwarded Host is the stub's address, known at run time.
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  auto r = fetch(proxy.port(), "GET /p HTTP/1.0\r\n\r\n");
  INFO(r.summary());
  CHECK(r.status() == 200);
  REQUIRE(upstream.request_count() == 1);
  CHECK(upstream.requests().at(0).header("Host") == upstream.address());
  CHECK(upstream.requests().at(0).head.fields.count("Host") == 1);
}

TEST_CASE("conformance: statuses other than 400") {
  std::vector<conformance_case> cases{
      {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505,
       "a well-formed version Gantry does not speak (RFC 9110 15.6.6)"},
      {"HTTP/2.0 in a request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505,
       "a well-formed version Gantry does not speak (RFC 9110 15.6.6)"},
      {"HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400,
       "HTTP-version = \"HTTP/\" DIGIT \".\" DIGIT (2.3): malformed, not unsupported"},
      {"lower-case http", "GET / http/1.1\r\nHost: a\r\n\r\n", 400,
       "HTTP-name is case-sensitive (2.3)"},
      {"unknown method BREW", "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501,
       "a method is any token; one the server does not know is 501 (RFC 9110 9.1, 15.6.2)"},
      {"lower-case get", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501,
       "methods are case-sensitive (RFC 9110 9.1): get is a token, not GET"},
      {"method with a non-token byte", "GE@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "method = token (RFC 9110 9.1): malformed, not unknown"},
      {"9000-byte target", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414,
       "longer than the 8 KiB request line limit (3; RFC 9110 15.5.15)"},
      {"101 header fields",
       [] {
         std::string request = "GET / HTTP/1.1\r\nHost: a\r\n";
         for (int i = 0; i < 100; ++i) request += "X-F" + std::to_string(i) + ": v\r\n";
         return request + "\r\n";
       }(),
       431, "more fields than the 100 allowed (RFC 6585 5)"},
  };
  run_cases(cases);
}

TEST_CASE("conformance: bytes after an Upgrade request are not forwarded") {
  // gantryd does not implement protocol upgrades: Upgrade and Connection are hop-by-hop and
  // not forwarded, an upstream's 101 is a 502, and the client connection ends with the
  // exchange. So the request goes upstream as a plain request, and whatever follows its head
  // (the new protocol's bytes, or a request smuggled behind them) never does. When upgrades
  // are supported, this case must become: forwarded only after the upstream's 101.
  stub_upstream upstream{stub::echo()};
  gantryd proxy{{.upstreams = {upstream.address()}, .workers = 1}};
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string upgrade;
  SUBCASE("without a body") {
    upgrade = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  }
  SUBCASE("with a body") {
    upgrade =
        "POST /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Content-Length: 5\r\n\r\nhello";
  }
  CAPTURE(upgrade);
  auto d = after(10s);
  tcp_client client{proxy.port(), d};
  REQUIRE(client.send(upgrade + smuggled, d));
  auto r = client.read_response(d);
  INFO(r.summary());
  CHECK(r.status() == 200);
  CHECK_FALSE(r.keep_alive);
  std::string rest;
  CHECK(client.wait_for_close(d, &rest));
  CHECK(rest.empty());
  REQUIRE(upstream.request_count() == 1);
  const auto q = upstream.requests().at(0);
  CHECK(q.head.target == "/ws");
  CHECK_FALSE(q.head.fields.contains("Upgrade"));
  const std::string received = upstream.connections().at(0).received;
  INFO("upstream received: ", received);
  CHECK(received.find("smuggled") == std::string::npos);
}
