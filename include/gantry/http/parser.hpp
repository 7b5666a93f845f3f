#pragma once
/// @file
/// Incremental HTTP/1.x parser for requests and responses, on llhttp.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "gantry/http/body_framing.hpp"
#include "gantry/http/headers.hpp"
#include "gantry/http/request.hpp"
#include "gantry/http/response.hpp"

namespace gantry::http {

/// Limits that protect a parser from hostile peers; exceeding one is an error whose
/// `status_for` is the status to answer with. Defaults follow common practice: NGINX allows
/// 8 KiB request lines and Envoy 60 KiB of headers and 100 fields.
struct parser_limits {
  std::size_t max_target_length = 8 * 1024;    // 414 past this
  std::size_t max_header_section = 64 * 1024;  // 431 past this: names and values with the
                                               // whitespace around them (+ reason); trailers
                                               // get a budget of their own
  std::size_t max_field_count = 100;           // 431 past this
  std::uint64_t max_body_size = std::numeric_limits<std::uint64_t>::max();  // 413 past this
  std::size_t max_chunk_line = 4 * 1024;  // 400 past this: a chunk-size line with its
                                          // extensions, CRLF included
};

/// What `parser::parse` stopped at.
enum class parse_event : std::uint8_t {
  need_more,    ///< Every byte was consumed; feed more input.
  head,         ///< The head is complete: `request()` or `response()` is ready.
  body,         ///< `body()` holds the next piece of body, a view into the input.
  message_end,  ///< The message (and any trailers) is complete.
  upgrade,      ///< The message asked to switch protocols (or was CONNECT); bytes after the
                ///< head belong to the new protocol and are not consumed. Comes after the
                ///< message's `message_end`; every later `parse` reports it again.
  error,        ///< Parsing failed; `error()` says why. The connection must be closed.
};

/// Which kind of message a parser reads.
enum class parser_mode : std::uint8_t { request, response };

/// An incremental HTTP/1.x parser that stops at each event so the caller can act on it, with
/// no copy of body bytes: a body piece is a view into the caller's input.
///
/// Feed it any split of the input: `parse` consumes what it can and reports the first event.
/// Unconsumed input must be fed again (after the caller has dealt with the event), and the
/// caller keeps calling `parse` until it returns `need_more`, even with an empty rest: a
/// message can end without consuming a byte. After `message_end` the parser is ready for the
/// next pipelined message on the same connection, unless `keep_alive()` is false: then any
/// further input other than line breaks is an error.
///
/// ```
/// gantry::http::parser p{gantry::http::parser_mode::request};
/// std::string_view in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
/// auto r = p.parse(in);            // r.event == parse_event::head
/// in.remove_prefix(r.consumed);
/// r = p.parse(in);                 // r.event == parse_event::message_end
/// ```
///
/// Lenient modes of llhttp are never enabled: what RFC 9112 forbids is an error here. The
/// parser itself also rejects what llhttp accepts unless built with LLHTTP_STRICT_MODE:
/// whitespace in field names, chunk data not followed by CRLF, controls in the target. It
/// also refuses bare LF line ends and a bare CR between messages; in requests, obs-fold
/// (responses have it unfolded) and more than one SP between the parts of the request line;
/// and it bounds chunk extensions (`parser_limits::max_chunk_line`).
class parser {
 public:
  struct result {
    parse_event event;
    std::size_t consumed;  ///< Bytes of the input this call used.
  };

  explicit parser(parser_mode mode, parser_limits limits = {});
  ~parser();
  parser(parser&&) noexcept;
  parser& operator=(parser&&) noexcept;

  /// Parses `input` up to the next event.
  result parse(std::string_view input);
  /// Tells the parser the peer closed the connection. A response delimited by the close
  /// ends (`message_end`); any other partial message is a `partial_message` error; with no
  /// message in progress the result is `need_more`.
  result finish();

  /// Forgets everything about the current connection, as if newly constructed, but keeps
  /// the buffers of the heads. For a parser moving to a new connection.
  void reset() noexcept;

  /// Limits from the next message on, for a parser moving to a connection with other limits.
  /// Call between messages.
  void set_limits(parser_limits limits) noexcept;

  /// Response mode: the next response answers a HEAD request, so it has no body whatever its
  /// framing headers say. Call before the response's head is parsed.
  void expect_head_response(bool yes) noexcept;

  /// The request head (request mode), valid from `head` until the next message begins.
  const http::request& request() const noexcept;
  http::request& request() noexcept;
  /// The response head (response mode).
  const http::response& response() const noexcept;
  http::response& response() noexcept;
  /// Trailer fields of a chunked message, valid at `message_end`.
  const headers& trailers() const noexcept;
  /// The body piece of the last `body` event.
  std::string_view body() const noexcept;
  /// True when the `body` events so far hold the whole body, known before `message_end`:
  /// a Content-Length body that got all its bytes. (A chunked body's end is known only from
  /// its last chunk, which comes after its data.)
  bool body_complete() const noexcept;
  /// Why parsing failed, after an `error` event.
  std::error_code error() const noexcept;

  /// Framing facts about the current message, valid from `head`.
  bool keep_alive() const noexcept;
  bool chunked() const noexcept;
  /// The declared Content-Length, if the message has one.
  std::optional<std::uint64_t> content_length() const noexcept;
  /// `chunked()` and `content_length()` together.
  body_framing framing() const noexcept { return {chunked(), content_length()}; }
  /// True when a response's body runs until the connection closes.
  bool body_until_close() const noexcept;
  /// True while a message is partly parsed (its first byte seen, its end not yet).
  bool in_message() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace gantry::http
