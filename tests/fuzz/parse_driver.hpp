#pragma once
/// @file
/// Drives an `http::parser` over an input fed in pieces, checks the parser's contract at
/// every event (aborting on a breach), and records a transcript that a run over another
/// split of the same input must reproduce exactly.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "gantry/core/ascii.hpp"
#include "gantry/http/error.hpp"
#include "gantry/http/headers.hpp"
#include "gantry/http/method.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/status.hpp"

namespace gantry::fuzz {

using field_list = std::vector<std::pair<std::string, std::string>>;

inline field_list to_list(const http::headers& h) {
  field_list out;
  for (http::field f : h) out.emplace_back(f.name, f.value);
  return out;
}

/// What the parser reported about one message.
struct message_record {
  std::string method;  // request mode
  std::string target;
  int status = 0;  // response mode
  std::string reason;
  int major = 0;
  int minor = 0;
  field_list fields;
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
  bool body_until_close = false;
  bool keep_alive_at_head = false;
  // The response answers HEAD or is 1xx, 204 or 304: no body whatever its framing says.
  bool bodyless = false;
  std::string body;
  field_list trailers;
  bool ended = false;
  bool keep_alive_at_end = false;

  friend bool operator==(const message_record&, const message_record&) = default;
};

/// Everything a parser reported over one input.
struct transcript {
  std::vector<message_record> messages;
  /// Events with the stream offset they were reported at ("head@38"); runs of body events
  /// collapse into one "body" (how many depends on the split), need_more is left out.
  std::vector<std::string> events;
  std::error_code error;
  bool upgraded = false;
  /// Input left unconsumed at `upgrade`: the new protocol's bytes.
  std::string after_upgrade;

  friend bool operator==(const transcript&, const transcript&) = default;
};

inline std::string describe(const field_list& fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields) out += '[' + name + ": " + value + ']';
  return printable(out + '}');
}

inline std::string describe(const transcript& t) {
  std::string out = "  events:";
  for (const auto& e : t.events) out += ' ' + e;
  for (std::size_t i = 0; i < t.messages.size(); ++i) {
    const message_record& m = t.messages[i];
    out += "\n  message " + std::to_string(i) + ": ";
    if (!m.method.empty())
      out += m.method + ' ' + printable(m.target);
    else
      out += std::to_string(m.status) + " '" + printable(m.reason) + '\'';
    out += " HTTP/" + std::to_string(m.major) + '.' + std::to_string(m.minor) +
           " fields=" + describe(m.fields) + " chunked=" + std::to_string(m.chunked) +
           " content_length=" +
           (m.content_length ? std::to_string(*m.content_length) : std::string{"-"}) +
           " until_close=" + std::to_string(m.body_until_close) +
           " bodyless=" + std::to_string(m.bodyless) +
           " keep_alive=" + std::to_string(m.keep_alive_at_head) + '/' +
           std::to_string(m.keep_alive_at_end) + " body=" + std::to_string(m.body.size()) +
           "B trailers=" + describe(m.trailers) + " ended=" + std::to_string(m.ended);
  }
  out += "\n  error: " + (t.error ? t.error.message() : std::string{"none"});
  if (t.upgraded) out += "\n  upgraded, then '" + printable(t.after_upgrade) + '\'';
  return out;
}

/// How to drive the parser.
struct drive_options {
  http::parser_mode mode = http::parser_mode::request;
  http::parser_limits limits{};
  /// Call `finish()` once every byte is fed, as when the peer closes the connection.
  bool finish = false;
  /// Response mode: bit i set means final response i answers a HEAD request.
  std::uint32_t head_responses = 0;
  /// Called at every `head` event with the parser and whether the message is bodyless.
  std::function<void(http::parser&, bool bodyless)> on_head{};
};

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

namespace detail {

inline bool within(std::string_view inner, const char* begin, std::size_t size) {
  std::less_equal<const char*> le;
  return le(begin, inner.data()) && le(inner.data() + inner.size(), begin + size);
}

class driver {
 public:
  explicit driver(const drive_options& options)
      : options_{options}, parser_{options.mode, options.limits} {
    prepare_next_message();
  }

  /// Feeds one piece; false once the parser stopped (error or upgrade).
  bool feed(const char* data, std::size_t size, std::string_view later) {
    std::size_t offset = 0;
    for (int steps = 0;; ++steps) {
      GANTRY_FUZZ_CHECK(steps < 100000, "the parser makes no progress");
      std::string_view in{data + offset, size - offset};
      auto r = parser_.parse(in);
      GANTRY_FUZZ_CHECK(r.consumed <= in.size(), "consumed more than given");
      offset += r.consumed;
      position_ += r.consumed;
      if (r.event == http::parse_event::need_more) {
        GANTRY_FUZZ_CHECK(offset == size, "need_more with input left unconsumed");
        return true;
      }
      if (r.event == http::parse_event::body)
        GANTRY_FUZZ_CHECK(within(parser_.body(), data, size), "body piece outside the input");
      if (!handle(r.event, false)) {
        if (r.event == http::parse_event::upgrade) {
          t_.after_upgrade.assign(data + offset, size - offset);
          t_.after_upgrade += later;
        }
        // Both end states stick, and consume nothing.
        auto again = parser_.parse({data + offset, size - offset});
        GANTRY_FUZZ_CHECK(again.event == r.event && again.consumed == 0,
                          "an error or upgrade did not stick");
        return false;
      }
    }
  }

  void finish() {
    for (int i = 0; i < 4; ++i) {
      auto r = parser_.finish();
      GANTRY_FUZZ_CHECK(r.consumed == 0, "finish consumed bytes");
      if (r.event == http::parse_event::need_more) {
        GANTRY_FUZZ_CHECK(!parser_.in_message(), "finish left a message in progress");
        return;
      }
      if (!handle(r.event, true)) return;
    }
    fail(__FILE__, __LINE__, "finish never settled");
  }

  transcript take() { return std::move(t_); }

 private:
  void event(std::string_view name) {
    t_.events.push_back(std::string{name} + '@' + std::to_string(position_));
  }

  void prepare_next_message() {
    if (options_.mode != http::parser_mode::response) return;
    bool head = final_responses_ < 32 && ((options_.head_responses >> final_responses_) & 1) != 0;
    parser_.expect_head_response(head);
  }

  bool request_mode() const noexcept { return options_.mode == http::parser_mode::request; }

  void on_head() {
    GANTRY_FUZZ_CHECK(!open_, "head inside a message");
    GANTRY_FUZZ_CHECK(!closed_, "a message after one that closed the connection");
    GANTRY_FUZZ_CHECK(parser_.in_message(), "head while not in a message");
    event("head");
    message_record m;
    std::size_t section = 0;
    if (request_mode()) {
      const auto& req = parser_.request();
      m.method = std::string{to_string(req.method)};
      m.target = req.target;
      m.major = req.version.major;
      m.minor = req.version.minor;
      m.fields = to_list(req.fields);
      GANTRY_FUZZ_CHECK(!m.target.empty(), "empty request target");
      GANTRY_FUZZ_CHECK(m.target.size() <= options_.limits.max_target_length,
                        "target over its limit");
      for (char c : m.target) {
        auto u = static_cast<unsigned char>(c);
        GANTRY_FUZZ_CHECK(u > 0x20 && u < 0x7f, "whitespace or control in the target");
      }
    } else {
      const auto& res = parser_.response();
      m.status = static_cast<int>(res.status);
      m.reason = res.reason;
      m.major = res.version.major;
      m.minor = res.version.minor;
      m.fields = to_list(res.fields);
      GANTRY_FUZZ_CHECK(m.status >= 100 && m.status <= 999, "status out of range");
      for (char c : m.reason)
        GANTRY_FUZZ_CHECK(is_field_value_byte(c), "control byte in the reason phrase");
      section += m.reason.size();
      bool head = final_responses_ < 32 && ((options_.head_responses >> final_responses_) & 1);
      m.bodyless = http::is_bodyless(res.status) || (m.status >= 200 && head);
    }
    GANTRY_FUZZ_CHECK(m.major == 1 && (m.minor == 0 || m.minor == 1), "version not 1.0 or 1.1");
    GANTRY_FUZZ_CHECK(m.fields.size() <= options_.limits.max_field_count,
                      "fields over their limit");
    for (const auto& [name, value] : m.fields) section += name.size() + value.size();
    GANTRY_FUZZ_CHECK(section <= options_.limits.max_header_section, "head over its limit");
    check_head_fields(m.fields, request_mode(), m.minor);

    m.chunked = parser_.chunked();
    m.content_length = parser_.content_length();
    m.body_until_close = parser_.body_until_close();
    m.keep_alive_at_head = parser_.keep_alive();
    GANTRY_FUZZ_CHECK(!(m.chunked && m.content_length), "chunked with a Content-Length");
    if (m.body_until_close)
      GANTRY_FUZZ_CHECK(!request_mode() && !m.chunked && !m.content_length && !m.bodyless,
                        "a close-delimited body where the framing says otherwise");
    if (m.content_length && !m.bodyless)
      GANTRY_FUZZ_CHECK(*m.content_length <= options_.limits.max_body_size,
                        "Content-Length over the body limit");
    open_ = true;
    t_.messages.push_back(std::move(m));
    if (options_.on_head) options_.on_head(parser_, t_.messages.back().bodyless);
  }

  void on_body() {
    GANTRY_FUZZ_CHECK(open_, "body outside a message");
    if (t_.events.empty() || t_.events.back() != "body") t_.events.emplace_back("body");
    message_record& m = t_.messages.back();
    GANTRY_FUZZ_CHECK(!parser_.body().empty(), "an empty body piece");
    GANTRY_FUZZ_CHECK(!m.bodyless, "body in a message that has none");
    m.body.append(parser_.body());
    if (m.content_length && !m.chunked)
      GANTRY_FUZZ_CHECK(m.body.size() <= *m.content_length, "more body than Content-Length");
    GANTRY_FUZZ_CHECK(!request_mode() || m.chunked || m.content_length,
                      "body in a request without framing");
    GANTRY_FUZZ_CHECK(m.body.size() <= options_.limits.max_body_size, "body over its limit");
  }

  void on_end(bool finishing) {
    GANTRY_FUZZ_CHECK(open_, "message_end without a head");
    GANTRY_FUZZ_CHECK(!parser_.in_message(), "in_message after message_end");
    event("end");
    message_record& m = t_.messages.back();
    if (m.content_length && !m.chunked && !m.bodyless)
      GANTRY_FUZZ_CHECK(m.body.size() == *m.content_length, "body shorter than Content-Length");
    if (finishing)
      GANTRY_FUZZ_CHECK(m.body_until_close, "finish() ended a message that has a length");
    m.ended = true;
    m.trailers = to_list(parser_.trailers());
    if (!m.chunked) GANTRY_FUZZ_CHECK(m.trailers.empty(), "trailers without chunked framing");
    for (const auto& [name, value] : m.trailers) {
      GANTRY_FUZZ_CHECK(!name.empty(), "an empty trailer name");
      for (char c : name) GANTRY_FUZZ_CHECK(is_tchar(c), "trailer name not a token");
      for (char c : value) GANTRY_FUZZ_CHECK(is_field_value_byte(c), "trailer value byte");
    }
    m.keep_alive_at_end = parser_.keep_alive();
    if (request_mode())
      GANTRY_FUZZ_CHECK(to_list(parser_.request().fields) == m.fields,
                        "request head changed before message_end");
    if (!m.keep_alive_at_end) closed_ = true;
    open_ = false;
    if (!request_mode() && m.status >= 200) ++final_responses_;
    prepare_next_message();
  }

  bool handle(http::parse_event e, bool finishing) {
    switch (e) {
      case http::parse_event::need_more:
        return true;
      case http::parse_event::head:
        GANTRY_FUZZ_CHECK(!finishing, "head from finish()");
        on_head();
        return true;
      case http::parse_event::body:
        GANTRY_FUZZ_CHECK(!finishing, "body from finish()");
        on_body();
        return true;
      case http::parse_event::message_end:
        on_end(finishing);
        return true;
      case http::parse_event::upgrade:
        GANTRY_FUZZ_CHECK(!t_.events.empty() && t_.events.back().starts_with("end@"),
                          "upgrade not right after a message_end");
        event("upgrade");
        t_.upgraded = true;
        return false;
      case http::parse_event::error:
        t_.events.emplace_back("error");
        t_.error = parser_.error();
        GANTRY_FUZZ_CHECK(t_.error && t_.error.category() == http::category(),
                          "error event without an http error code");
        return false;
    }
    fail(__FILE__, __LINE__, "unknown event");
  }

  const drive_options& options_;
  http::parser parser_;
  transcript t_;
  std::size_t position_ = 0;
  std::size_t final_responses_ = 0;
  bool open_ = false;
  // The last message ended with keep-alive off: no further head may come.
  bool closed_ = false;
};

}  // namespace detail

/// Parses `pieces` in order, each copied into its own exactly-sized heap block so that a
/// read past the end of a piece shows up under AddressSanitizer.
inline transcript parse_pieces(const std::vector<std::string_view>& pieces,
                               const drive_options& options) {
  detail::driver d{options};
  bool running = true;
  for (std::size_t i = 0; i < pieces.size() && running; ++i) {
    std::string_view piece = pieces[i];
    std::unique_ptr<char[]> block{piece.empty() ? nullptr : new char[piece.size()]};
    if (!piece.empty()) piece.copy(block.get(), piece.size());
    std::string later;
    for (std::size_t j = i + 1; j < pieces.size(); ++j) later += pieces[j];
    running = d.feed(block.get(), piece.size(), later);
  }
  if (running && options.finish) d.finish();
  return d.take();
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
  transcript whole = parse_pieces({input}, options);
  check_line_ends(input, whole);
  drive_options quiet = options;
  quiet.on_head = nullptr;
  transcript pieces = parse_pieces(split(input, mode, seed), quiet);
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
