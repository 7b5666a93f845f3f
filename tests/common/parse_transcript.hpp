#pragma once
/// @file
/// Shared by the unit tests (tests/unit/http/parse_transcript.hpp) and the fuzz targets
/// (tests/fuzz/parse_driver.hpp): drives an `http::parser` over an input fed in any split,
/// records what it reported as a `transcript` that two runs compare with `==`, and records
/// every breach of the parser's contract it sees as a string. Nothing here asserts: the unit
/// layer CHECKs the records, the fuzz layer aborts on the first violation.
///
/// The contract checked here is the parser's API and framing, and its limits: how events
/// follow each other, what they consume, and that a body agrees with the framing the head
/// announced. The syntax of what the parser accepted (tokens, field bytes, versions) is left
/// to the fuzz layer, which checks it against RFC 9112.

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

#include "gantry/http/error.hpp"
#include "gantry/http/headers.hpp"
#include "gantry/http/method.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/status.hpp"

namespace gantry::test {

using field_list = std::vector<std::pair<std::string, std::string>>;

inline field_list to_list(const http::headers& h) {
  field_list out;
  for (http::field f : h) out.emplace_back(f.name, f.value);
  return out;
}

/// What the parser reported about one message.
struct message_record {
  // The head, as seen at the `head` event.
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
  // The rest, as seen at `message_end`.
  std::string body;
  field_list trailers;
  bool ended = false;
  bool keep_alive_at_end = false;

  friend bool operator==(const message_record&, const message_record&) = default;
};

/// Everything a parser reported over one input.
struct transcript {
  std::vector<message_record> messages;
  /// Events with the absolute stream offset at which they were reported, e.g. "head@38".
  /// Runs of `body` events are collapsed into one "body" (how many depends on the split) and
  /// `need_more` is left out.
  std::vector<std::string> events;
  std::error_code error;
  bool upgraded = false;
  /// Input the parser left unconsumed at `upgrade`: the new protocol's bytes.
  std::string after_upgrade;
  /// Contract violations the driver saw (a body piece outside the input, need_more that left
  /// bytes unconsumed, ...), each once; empty when the parser kept its promises.
  std::vector<std::string> violations;

  friend bool operator==(const transcript&, const transcript&) = default;
};

/// `text` with bytes outside printable ASCII escaped, for failure messages.
inline std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u >= 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

inline std::string describe(const field_list& fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields) out += '[' + name + ": " + value + ']';
  return printable(out + '}');
}

/// `t` over several lines, for failure messages. A body is shown by its size and, escaped,
/// its first 64 bytes.
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
    constexpr std::size_t shown = 64;
    out += " HTTP/" + std::to_string(m.major) + '.' + std::to_string(m.minor) +
           " fields=" + describe(m.fields) + " chunked=" + std::to_string(m.chunked) +
           " content_length=" +
           (m.content_length ? std::to_string(*m.content_length) : std::string{"-"}) +
           " until_close=" + std::to_string(m.body_until_close) +
           " bodyless=" + std::to_string(m.bodyless) +
           " keep_alive=" + std::to_string(m.keep_alive_at_head) + '/' +
           std::to_string(m.keep_alive_at_end) + " body=" + std::to_string(m.body.size()) +
           "B '" + printable(std::string_view{m.body}.substr(0, shown)) +
           (m.body.size() > shown ? "...'" : "'") + " trailers=" + describe(m.trailers) +
           " ended=" + std::to_string(m.ended);
  }
  out += "\n  error: " + (t.error ? t.error.message() : std::string{"none"});
  if (t.upgraded) out += "\n  upgraded, then '" + printable(t.after_upgrade) + '\'';
  for (const auto& v : t.violations) out += "\n  VIOLATION: " + v;
  return out;
}

/// The events of `t` as one line, e.g. "head@38 body end@43": easy to compare and to read.
inline std::string events_of(const transcript& t) {
  std::string out;
  for (const auto& e : t.events) {
    if (!out.empty()) out += ' ';
    out += e;
  }
  return out;
}

/// How to drive the parser.
struct drive_options {
  http::parser_mode mode = http::parser_mode::request;
  http::parser_limits limits{};
  /// Call `finish()` once every byte is fed, as when the peer closes the connection.
  bool finish = false;
  /// Response mode: head_responses[i] true means final response i (interim 1xx responses
  /// not counted) answers a HEAD request; `expect_head_response` is set before each message.
  std::vector<bool> head_responses{};
  /// Called at every `head` event, once its record is made, with the parser still on it.
  std::function<void(http::parser&, const message_record&)> on_head{};
  /// Called with each new violation as soon as it is recorded (the fuzz layer aborts there).
  std::function<void(const std::string&)> on_violation{};
};

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

  /// Feeds one piece of input; false once the parser stopped (error or upgrade). `later` is
  /// the input that follows this piece, for `after_upgrade`.
  bool feed(const char* data, std::size_t size, std::string_view later) {
    std::size_t offset = 0;
    for (;;) {
      if (events_handled_ >= max_events) {
        violation("the parser makes no progress");
        return false;
      }
      std::string_view in{data + offset, size - offset};
      auto r = parser_.parse(in);
      if (r.consumed > in.size()) {
        violation("consumed more than given");
        r.consumed = in.size();
      }
      offset += r.consumed;
      position_ += r.consumed;
      if (r.event == http::parse_event::need_more) {
        if (offset != size) violation("need_more with input left unconsumed");
        return true;
      }
      ++events_handled_;
      if (r.event == http::parse_event::body && !within(parser_.body(), data, size))
        violation("body piece outside the input");
      if (!handle(r.event, false)) {
        if (r.event == http::parse_event::upgrade) {
          t_.after_upgrade.assign(data + offset, size - offset);
          t_.after_upgrade += later;
        }
        // Both end states stick, and consume nothing.
        auto again = parser_.parse({data + offset, size - offset});
        if (again.event != r.event || again.consumed != 0)
          violation("an error or upgrade did not stick");
        return false;
      }
    }
  }

  void finish() {
    for (int i = 0; i < 4; ++i) {
      auto r = parser_.finish();
      if (r.consumed != 0) violation("finish consumed bytes");
      if (r.event == http::parse_event::need_more) {
        if (parser_.in_message()) violation("finish left a message in progress");
        return;
      }
      if (!handle(r.event, true)) return;
    }
    violation("finish never settled");
  }

  transcript take() { return std::move(t_); }

 private:
  // Far more events than any test input yields: past this the parser is stuck.
  static constexpr int max_events = 100000;

  void violation(std::string what) {
    // One of a kind is enough to explain a failure; a stuck parser would repeat it forever.
    for (const auto& seen : t_.violations)
      if (seen == what) return;
    t_.violations.push_back(std::move(what));
    if (options_.on_violation) options_.on_violation(t_.violations.back());
  }

  void event(std::string_view name) {
    t_.events.push_back(std::string{name} + '@' + std::to_string(position_));
  }

  bool request_mode() const noexcept { return options_.mode == http::parser_mode::request; }

  /// Whether the next final response answers HEAD.
  bool head_expected() const noexcept {
    return final_responses_ < options_.head_responses.size() &&
           options_.head_responses[final_responses_];
  }

  void prepare_next_message() {
    if (!request_mode()) parser_.expect_head_response(head_expected());
  }

  void on_head() {
    if (open_) violation("head inside a message");
    if (closed_) violation("a message after one that closed the connection");
    if (!parser_.in_message()) violation("head while not in a message");
    event("head");
    message_record m;
    const http::parser_limits& limits = options_.limits;
    std::size_t section = 0;
    if (request_mode()) {
      const auto& req = parser_.request();
      m.method = std::string{to_string(req.method)};
      m.target = req.target;
      m.major = req.version.major;
      m.minor = req.version.minor;
      m.fields = to_list(req.fields);
      if (m.target.size() > limits.max_target_length) violation("target over its limit");
    } else {
      const auto& res = parser_.response();
      m.status = static_cast<int>(res.status);
      m.reason = res.reason;
      m.major = res.version.major;
      m.minor = res.version.minor;
      m.fields = to_list(res.fields);
      m.bodyless = http::is_bodyless(res.status) || (m.status >= 200 && head_expected());
      section += m.reason.size();
    }
    if (m.fields.size() > limits.max_field_count) violation("fields over their limit");
    for (const auto& [name, value] : m.fields) section += name.size() + value.size();
    if (section > limits.max_header_section) violation("head over its limit");

    m.chunked = parser_.chunked();
    m.content_length = parser_.content_length();
    m.body_until_close = parser_.body_until_close();
    m.keep_alive_at_head = parser_.keep_alive();
    if (m.chunked && m.content_length) violation("chunked with a Content-Length");
    if (m.body_until_close && (request_mode() || m.chunked || m.content_length || m.bodyless))
      violation("a close-delimited body where the framing says otherwise");
    if (m.content_length && !m.bodyless && *m.content_length > limits.max_body_size)
      violation("Content-Length over the body limit");
    open_ = true;
    t_.messages.push_back(std::move(m));
    if (options_.on_head) options_.on_head(parser_, t_.messages.back());
  }

  void on_body() {
    if (t_.events.empty() || t_.events.back() != "body") t_.events.emplace_back("body");
    if (parser_.body().empty()) violation("an empty body piece");
    if (!open_) {
      violation("body outside a message");
      return;
    }
    message_record& m = t_.messages.back();
    if (m.bodyless) violation("body in a message that has none");
    m.body.append(parser_.body());
    if (m.content_length && !m.chunked && m.body.size() > *m.content_length)
      violation("more body than Content-Length");
    if (request_mode() && !m.chunked && !m.content_length)
      violation("body in a request without framing");
    if (m.body.size() > options_.limits.max_body_size) violation("body over its limit");
  }

  void on_end(bool finishing) {
    event("end");
    if (parser_.in_message()) violation("in_message after message_end");
    if (!open_) {
      violation("message_end without a head");
      return;
    }
    message_record& m = t_.messages.back();
    if (m.content_length && !m.chunked && !m.bodyless && m.body.size() != *m.content_length)
      violation("body shorter than Content-Length");
    if (finishing && !m.body_until_close)
      violation("finish() ended a message that has a length");
    m.ended = true;
    m.trailers = to_list(parser_.trailers());
    if (!m.chunked && !m.trailers.empty()) violation("trailers without chunked framing");
    m.keep_alive_at_end = parser_.keep_alive();
    if (request_mode() && to_list(parser_.request().fields) != m.fields)
      violation("request head changed before message_end");
    if (!m.keep_alive_at_end) closed_ = true;
    open_ = false;
    if (!request_mode() && m.status >= 200) ++final_responses_;
    prepare_next_message();
  }

  /// Records event `e`; false once the parser stopped.
  bool handle(http::parse_event e, bool finishing) {
    switch (e) {
      case http::parse_event::need_more:
        return true;
      case http::parse_event::head:
        if (finishing) violation("head from finish()");
        on_head();
        return true;
      case http::parse_event::body:
        if (finishing) violation("body from finish()");
        on_body();
        return true;
      case http::parse_event::message_end:
        on_end(finishing);
        return true;
      case http::parse_event::upgrade:
        if (t_.events.empty() || !t_.events.back().starts_with("end@"))
          violation("upgrade not right after a message_end");
        event("upgrade");
        t_.upgraded = true;
        return false;
      case http::parse_event::error:
        t_.events.emplace_back("error");
        t_.error = parser_.error();
        if (!t_.error || t_.error.category() != http::category())
          violation("error event without an http error code");
        return false;
    }
    violation("unknown event");
    return false;
  }

  const drive_options& options_;
  http::parser parser_;
  transcript t_;
  std::size_t position_ = 0;
  int events_handled_ = 0;
  std::size_t final_responses_ = 0;
  // Between a head and its message_end.
  bool open_ = false;
  // The last message ended with keep-alive off: no further head may come.
  bool closed_ = false;
};

}  // namespace detail

/// Parses `pieces` in order, each copied into its own exactly-sized heap block so that a read
/// past the end of a piece shows up under AddressSanitizer.
inline transcript parse_pieces(const std::vector<std::string_view>& pieces,
                               const drive_options& options = {}) {
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

/// Parses `input` in one call.
inline transcript parse_all(std::string_view input, const drive_options& options = {}) {
  return parse_pieces({input}, options);
}

/// Parses `input` split in two at `at`.
inline transcript parse_split(std::string_view input, std::size_t at,
                              const drive_options& options = {}) {
  return parse_pieces({input.substr(0, at), input.substr(at)}, options);
}

/// Parses `input` one byte per call.
inline transcript parse_bytewise(std::string_view input, const drive_options& options = {}) {
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < input.size(); ++i) pieces.push_back(input.substr(i, 1));
  return parse_pieces(pieces, options);
}

}  // namespace gantry::test
