#pragma once
/// @file
/// Test helper: drives an `http::parser` over a whole input, fed in any split, and records
/// what it reported as a `transcript` that two runs can compare with `==`.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "gantry/http/headers.hpp"
#include "gantry/http/method.hpp"
#include "gantry/http/parser.hpp"

namespace gantry::http::test {

using field_list = std::vector<std::pair<std::string, std::string>>;

inline field_list to_list(const headers& h) {
  field_list out;
  for (field f : h) out.emplace_back(f.name, f.value);
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
  /// bytes unconsumed, ...); empty when the parser kept its promises.
  std::vector<std::string> violations;

  friend bool operator==(const transcript&, const transcript&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const field_list& fields) {
  os << '{';
  for (const auto& [name, value] : fields) os << '[' << name << ": " << value << ']';
  return os << '}';
}

inline std::ostream& operator<<(std::ostream& os, const transcript& t) {
  os << "\n  events:";
  for (const auto& e : t.events) os << ' ' << e;
  for (std::size_t i = 0; i < t.messages.size(); ++i) {
    const message_record& m = t.messages[i];
    os << "\n  message " << i << ": ";
    if (!m.method.empty())
      os << m.method << ' ' << m.target;
    else
      os << m.status << " '" << m.reason << '\'';
    os << " HTTP/" << m.major << '.' << m.minor << " fields=" << m.fields
       << " chunked=" << m.chunked << " content_length="
       << (m.content_length ? std::to_string(*m.content_length) : std::string{"-"})
       << " until_close=" << m.body_until_close << " keep_alive=" << m.keep_alive_at_head << '/'
       << m.keep_alive_at_end << " body='" << m.body << "' trailers=" << m.trailers
       << " ended=" << m.ended;
  }
  os << "\n  error: " << (t.error ? t.error.message() : std::string{"none"});
  if (t.upgraded) os << "\n  upgraded, then '" << t.after_upgrade << '\'';
  for (const auto& v : t.violations) os << "\n  VIOLATION: " << v;
  return os << '\n';
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
  parser_mode mode = parser_mode::request;
  parser_limits limits{};
  /// Call `finish()` once every byte is fed, as when the peer closes the connection.
  bool finish = false;
  /// `expect_head_response(true)` is called before message i when head_responses[i] is true.
  std::vector<bool> head_responses{};
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

  /// Feeds one piece of input; false once the parser stopped (error or upgrade).
  bool feed(const char* data, std::size_t size, const std::vector<std::string>& later) {
    std::size_t offset = 0;
    for (;;) {
      std::string_view in{data + offset, size - offset};
      auto r = parser_.parse(in);
      if (r.consumed > in.size()) {
        violation("consumed more than given");
        r.consumed = in.size();
      }
      offset += r.consumed;
      position_ += r.consumed;
      if (r.event == parse_event::need_more) {
        if (offset != size) violation("need_more with unconsumed input");
        return true;
      }
      if (r.event == parse_event::body && !within(parser_.body(), data, size))
        violation("body piece outside the input");
      if (!handle(r.event)) {
        if (r.event == parse_event::upgrade) {
          t_.after_upgrade.assign(data + offset, size - offset);
          for (const auto& piece : later) t_.after_upgrade += piece;
        }
        return false;
      }
      if (++steps_ > 100000) {
        violation("no progress");
        return false;
      }
    }
  }

  void finish() {
    for (int i = 0; i < 4; ++i) {
      auto r = parser_.finish();
      if (r.consumed != 0) violation("finish consumed bytes");
      if (r.event == parse_event::need_more) return;
      if (!handle(r.event)) return;
    }
    violation("finish never settled");
  }

  transcript take() { return std::move(t_); }

 private:
  void violation(std::string what) {
    // One of a kind is enough to explain a failure; a stuck parser would repeat it forever.
    for (const auto& seen : t_.violations)
      if (seen == what) return;
    t_.violations.push_back(std::move(what));
  }

  void event(std::string_view name) {
    t_.events.push_back(std::string{name} + '@' + std::to_string(position_));
  }

  void prepare_next_message() {
    std::size_t next = t_.messages.size();
    if (next < options_.head_responses.size() && options_.head_responses[next])
      parser_.expect_head_response(true);
  }

  bool handle(parse_event e) {
    switch (e) {
      case parse_event::need_more:
        return true;
      case parse_event::head: {
        event("head");
        message_record m;
        if (options_.mode == parser_mode::request) {
          const auto& req = parser_.request();
          m.method = std::string{to_string(req.method)};
          m.target = req.target;
          m.major = req.version.major;
          m.minor = req.version.minor;
          m.fields = to_list(req.fields);
        } else {
          const auto& res = parser_.response();
          m.status = static_cast<int>(res.status);
          m.reason = res.reason;
          m.major = res.version.major;
          m.minor = res.version.minor;
          m.fields = to_list(res.fields);
        }
        m.chunked = parser_.chunked();
        m.content_length = parser_.content_length();
        m.body_until_close = parser_.body_until_close();
        m.keep_alive_at_head = parser_.keep_alive();
        if (!parser_.in_message()) violation("head while not in a message");
        t_.messages.push_back(std::move(m));
        return true;
      }
      case parse_event::body:
        if (t_.events.empty() || t_.events.back() != "body") t_.events.emplace_back("body");
        if (parser_.body().empty()) violation("empty body piece");
        if (t_.messages.empty()) {
          violation("body before head");
        } else {
          t_.messages.back().body.append(parser_.body());
        }
        return true;
      case parse_event::message_end:
        event("end");
        if (t_.messages.empty() || t_.messages.back().ended) {
          violation("message_end without a head");
          return true;
        }
        if (parser_.in_message()) violation("in_message after message_end");
        t_.messages.back().ended = true;
        t_.messages.back().trailers = to_list(parser_.trailers());
        t_.messages.back().keep_alive_at_end = parser_.keep_alive();
        if (options_.mode == parser_mode::request &&
            to_list(parser_.request().fields) != t_.messages.back().fields)
          violation("request head changed before message_end");
        prepare_next_message();
        return true;
      case parse_event::upgrade:
        event("upgrade");
        t_.upgraded = true;
        return false;
      case parse_event::error:
        t_.events.emplace_back("error");
        t_.error = parser_.error();
        if (!t_.error) violation("error event without an error code");
        return false;
    }
    return false;
  }

  const drive_options& options_;
  parser parser_;
  transcript t_;
  std::size_t position_ = 0;
  int steps_ = 0;
};

}  // namespace detail

/// Parses `pieces` in order, each piece in its own exactly-sized heap block so that a read
/// past the end of a piece shows up under AddressSanitizer.
inline transcript parse_pieces(const std::vector<std::string>& pieces,
                               const drive_options& options = {}) {
  detail::driver d{options};
  bool running = true;
  for (std::size_t i = 0; i < pieces.size() && running; ++i) {
    const std::string& piece = pieces[i];
    std::unique_ptr<char[]> block{piece.empty() ? nullptr : new char[piece.size()]};
    if (!piece.empty()) piece.copy(block.get(), piece.size());
    std::vector<std::string> later(pieces.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                   pieces.end());
    running = d.feed(block.get(), piece.size(), later);
  }
  if (running && options.finish) d.finish();
  return d.take();
}

/// Parses `input` in one call.
inline transcript parse_all(std::string_view input, const drive_options& options = {}) {
  return parse_pieces({std::string{input}}, options);
}

/// Parses `input` split in two at `at`.
inline transcript parse_split(std::string_view input, std::size_t at,
                              const drive_options& options = {}) {
  return parse_pieces({std::string{input.substr(0, at)}, std::string{input.substr(at)}}, options);
}

/// Parses `input` one byte per call.
inline transcript parse_bytewise(std::string_view input, const drive_options& options = {}) {
  std::vector<std::string> pieces;
  for (char c : input) pieces.emplace_back(1, c);
  return parse_pieces(pieces, options);
}

/// Checks that every two-piece split of `input`, and a byte-at-a-time feed, give the same
/// transcript as parsing it in one call; returns that one-shot transcript.
inline transcript check_every_split(std::string_view input, const drive_options& options = {}) {
  transcript whole = parse_all(input, options);
  CHECK(whole.violations.empty());
  for (std::size_t at = 0; at <= input.size(); ++at) {
    CAPTURE(at);
    CHECK(parse_split(input, at, options) == whole);
  }
  CHECK(parse_bytewise(input, options) == whole);
  return whole;
}

}  // namespace gantry::http::test
