#pragma once
/// @file
/// The fuzz layer on the parser driver of tests/common/parse_transcript.hpp: every contract
/// violation the driver records aborts at once, every head and trailer the parser accepts is
/// checked against RFC 9112 and issue 4, and a run over another split of the same input must
/// reproduce the transcript exactly.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/parse_transcript.hpp"
#include "fuzz_support.hpp"
#include "gantry/core/ascii.hpp"
#include "gantry/http/error.hpp"
#include "gantry/http/parser.hpp"

namespace gantry::fuzz {

using test::describe;
using test::drive_options;
using test::field_list;
using test::message_record;
using test::printable;
using test::to_list;
using test::transcript;

/// RFC 9110 5.6.2 tchar.
constexpr bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

/// RFC 9110 5.5 field-value bytes after the parser trimmed it: VCHAR, obs-text, SP, HTAB;
/// never CR, LF, NUL or another control.
constexpr bool is_field_value_byte(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return c == '\t' || (u >= 0x20 && u != 0x7f);
}

/// RFC 9112 7: transfer-coding = token *( OWS ";" OWS token "=" token ), quoted parameter
/// values left out as the parser leaves them out.
inline bool is_transfer_coding(std::string_view coding) {
  auto token = [](std::string_view t) {
    t = core::trim_ows(t);
    if (t.empty()) return false;
    for (char c : t)
      if (!is_tchar(c)) return false;
    return true;
  };
  std::size_t start = 0;
  bool first = true;
  for (;;) {
    auto end = coding.find(';', start);
    auto part = coding.substr(start, end == std::string_view::npos ? end : end - start);
    if (first) {
      if (!token(part)) return false;
      first = false;
    } else {
      auto equals = part.find('=');
      if (equals == std::string_view::npos || !token(part.substr(0, equals)) ||
          !token(part.substr(equals + 1)))
        return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

/// Checks what RFC 9112 and issue 4 require of every head the parser accepts.
inline void check_head_fields(const field_list& fields, bool request, int minor) {
  std::optional<std::string_view> length;
  bool has_length = false;
  std::vector<std::string_view> codings;
  bool has_coding = false;
  for (const auto& field : fields) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const std::string& name = field.first;
    const std::string& value = field.second;
    GANTRY_FUZZ_CHECK(!name.empty(), "an empty field name was accepted");
    for (char c : name)
      GANTRY_FUZZ_CHECK(is_tchar(c), ("field name not a token: " + printable(name)).c_str());
    for (char c : value)
      GANTRY_FUZZ_CHECK(is_field_value_byte(c), ("field value byte: " + printable(value)).c_str());
    GANTRY_FUZZ_CHECK(value.empty() || (value.front() != ' ' && value.front() != '\t' &&
                                        value.back() != ' ' && value.back() != '\t'),
                      "a field value keeps surrounding whitespace");
    if (core::iequals(name, "Content-Length")) {
      has_length = true;
      GANTRY_FUZZ_CHECK(!value.empty(), "empty Content-Length accepted");
      for (char c : value)
        GANTRY_FUZZ_CHECK(c >= '0' && c <= '9',
                          ("Content-Length not digits: " + printable(value)).c_str());
      if (length) {
        // Repeated fields are tolerated only when they agree (RFC 9110 8.6); compare as numbers.
        auto strip = [](std::string_view v) {
          while (v.size() > 1 && v.front() == '0') v.remove_prefix(1);
          return v;
        };
        GANTRY_FUZZ_CHECK(strip(*length) == strip(value), "differing Content-Length accepted");
      }
      length = value;
    }
    if (core::iequals(name, "Transfer-Encoding")) {
      has_coding = true;
      std::size_t before = codings.size();
      core::for_each_list_element(value, [&](std::string_view coding) {
        GANTRY_FUZZ_CHECK(is_transfer_coding(coding),
                          ("malformed transfer coding accepted: " + printable(value)).c_str());
        codings.push_back(coding);
        return true;
      });
      GANTRY_FUZZ_CHECK(codings.size() > before, "a Transfer-Encoding without codings accepted");
    }
  }
  GANTRY_FUZZ_CHECK(!(has_length && has_coding), "Content-Length with Transfer-Encoding accepted");
  if (request && has_coding) {
    GANTRY_FUZZ_CHECK(minor == 1, "Transfer-Encoding in an HTTP/1.0 request accepted");
    GANTRY_FUZZ_CHECK(!codings.empty() && core::iequals(codings.back(), "chunked"),
                      "request whose final coding is not chunked accepted");
    for (std::size_t i = 0; i + 1 < codings.size(); ++i)
      GANTRY_FUZZ_CHECK(!core::iequals(codings[i], "chunked"), "chunked applied twice accepted");
  }
}

/// Checks the syntax of a head the parser accepted (the driver checks its framing and
/// limits).
inline void check_head(const message_record& m, bool request) {
  if (request) {
    GANTRY_FUZZ_CHECK(!m.target.empty(), "empty request target");
    for (char c : m.target) {
      auto u = static_cast<unsigned char>(c);
      GANTRY_FUZZ_CHECK(u > 0x20 && u < 0x7f, "whitespace or control in the target");
    }
  } else {
    GANTRY_FUZZ_CHECK(m.status >= 100 && m.status <= 999, "status out of range");
    for (char c : m.reason)
      GANTRY_FUZZ_CHECK(is_field_value_byte(c), "control byte in the reason phrase");
  }
  GANTRY_FUZZ_CHECK(m.major == 1 && (m.minor == 0 || m.minor == 1), "version not 1.0 or 1.1");
  check_head_fields(m.fields, request, m.minor);
}

/// Checks the syntax of the trailers of a message that ended.
inline void check_trailers(const message_record& m) {
  for (const auto& [name, value] : m.trailers) {
    GANTRY_FUZZ_CHECK(!name.empty(), "an empty trailer name");
    for (char c : name) GANTRY_FUZZ_CHECK(is_tchar(c), "trailer name not a token");
    for (char c : value) GANTRY_FUZZ_CHECK(is_field_value_byte(c), "trailer value byte");
  }
}

/// Parses `pieces` with the driver of tests/common/parse_transcript.hpp, aborting on the
/// first contract violation, and checks every head and trailer the parser accepted.
inline transcript parse_checked(const std::vector<std::string_view>& pieces,
                                const drive_options& options) {
  drive_options checked = options;
  checked.on_violation = [](const std::string& what) {
    fail(__FILE__, __LINE__, "the parser broke its contract", what);
  };
  const bool request = options.mode == http::parser_mode::request;
  checked.on_head = [&options, request](http::parser& p, const message_record& m) {
    check_head(m, request);
    if (options.on_head) options.on_head(p, m);
  };
  transcript t = test::parse_pieces(pieces, checked);
  for (const message_record& m : t.messages) check_trailers(m);
  return t;
}

/// Checks that every head the parser accepted in `input` ends its lines with CRLF: a bare LF
/// is a line end to some peers and not to others (RFC 9112 2.2; issue 4 refuses it).
inline void check_line_ends(std::string_view input, const transcript& t) {
  std::size_t start = 0;
  for (const auto& e : t.events) {
    auto at = e.find('@');
    if (at == std::string::npos) continue;
    std::size_t offset = std::stoul(e.substr(at + 1));
    if (e.starts_with("head@")) {
      std::string_view head = input.substr(start, offset - start);
      for (std::size_t i = 0; i < head.size(); ++i)
        GANTRY_FUZZ_CHECK(head[i] != '\n' || (i > 0 && head[i - 1] == '\r'),
                          ("a head with a bare LF was accepted: " + printable(head)).c_str());
    }
    start = offset;
  }
}

/// Checks that parsing `input` cut as `mode` and `seed` say reports exactly what parsing it
/// in one piece reports; returns the one-piece transcript. `options.on_head` runs only for
/// the one-piece parse.
inline transcript check_split_invariance(std::string_view input, split_mode mode, std::uint8_t seed,
                                         const drive_options& options) {
  transcript whole = parse_checked({input}, options);
  check_line_ends(input, whole);
  drive_options quiet = options;
  quiet.on_head = nullptr;
  transcript pieces = parse_checked(split(input, mode, seed), quiet);
  transcript expected = whole;
  // Limits are checked as fragments arrive, syntax as llhttp reaches each byte: with a
  // message both too long and malformed, which is found first depends on the split (a
  // fragment cut before the bad byte is already over the limit). Both are errors that end
  // the connection, so either may be reported; everything else must match.
  auto limit = [](std::error_code e) {
    return e == http::errc::target_too_long || e == http::errc::header_section_too_large ||
           e == http::errc::too_many_fields || e == http::errc::body_too_large;
  };
  if (expected.error && pieces.error && (limit(expected.error) || limit(pieces.error)))
    pieces.error = expected.error;
  // A body without a length (close-delimited) goes over its limit somewhere in a piece: a
  // split may deliver some of it first, one piece cannot. What was delivered stays within
  // the limit (the driver checks that); the rest must match.
  if (expected.error == http::errc::body_too_large && pieces.error == expected.error) {
    for (transcript* t : {&expected, &pieces}) {
      if (t->events.size() >= 2 && t->events[t->events.size() - 2] == "body")
        t->events.erase(t->events.end() - 2);
      if (!t->messages.empty()) t->messages.back().body.clear();
    }
  }
  if (!(pieces == expected))
    fail(__FILE__, __LINE__, "split parse differs from one-piece parse",
         "one piece:\n" + describe(whole) + "\nsplit:\n" + describe(pieces));
  return whole;
}

/// Limits chosen by two bits of a control byte: the defaults, or small ones the fuzzer can
/// reach with short inputs.
inline http::parser_limits limits_preset(unsigned which) {
  http::parser_limits limits;
  switch (which & 3) {
    case 1:
      limits.max_target_length = 16;
      limits.max_header_section = 64;
      limits.max_field_count = 4;
      limits.max_body_size = 32;
      break;
    case 2:
      limits.max_target_length = 256;
      limits.max_header_section = 512;
      limits.max_field_count = 16;
      limits.max_body_size = 1024;
      break;
    case 3:
      limits.max_body_size = 0;
      break;
    default:
      break;
  }
  return limits;
}

}  // namespace gantry::fuzz
