#pragma once
/// @file
/// The forwarding invariant of issue 4: a head the parser accepted, rewritten the way the
/// gateway rewrites it before forwarding (target in origin-form and its path normalised,
/// hop-by-hop fields removed, framing rebuilt from what the parser found), serializes to
/// bytes that a fresh strict parser reads back as the same message, with a path already
/// normal, and never carries both Content-Length and Transfer-Encoding.
///
/// The rewrites mirror `session::exchange`, `session::prepare_upstream_head` and
/// `session::prepare_client_head` (lib/gateway/session.cpp) for an HTTP/1.1 client; keep them
/// in step. One difference: the codings forwarded with a chunked body are those of every
/// Transfer-Encoding field, joined (RFC 9110 5.3), where the session took the first field's
/// only: with "Transfer-Encoding: gzip" and "Transfer-Encoding: chunked" it forwarded a
/// chunked body labelled "gzip", which the next hop reads as not chunked.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "gantry/core/ascii.hpp"
#include "gantry/http/forwarding.hpp"
#include "gantry/http/hop_by_hop.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/path_normalization.hpp"
#include "gantry/http/serializer.hpp"
#include "gantry/http/status.hpp"
#include "gantry/http/target.hpp"
#include "parse_driver.hpp"

namespace gantry::fuzz {

/// The parser that reads what the gateway forwards: default limits with room for the fields
/// the gateway adds (a head at the client-side limits plus Host and framing).
inline http::parser_limits forwarded_limits() {
  http::parser_limits limits;
  limits.max_header_section += 1024;
  limits.max_field_count += 8;
  return limits;
}

namespace detail {

inline void check_no_conflicting_framing(const http::headers& fields, std::string_view wire) {
  GANTRY_FUZZ_CHECK(
      !(fields.contains("Content-Length") && fields.contains("Transfer-Encoding")),
      ("forwarded head has Content-Length and Transfer-Encoding:\n" + printable(wire)).c_str());
  GANTRY_FUZZ_CHECK(fields.count("Content-Length") <= 1 && fields.count("Transfer-Encoding") <= 1,
                    ("forwarded head repeats a framing field:\n" + printable(wire)).c_str());
}

/// Parses `wire` (one head and no body) with a fresh parser; the head must span all of it.
inline void reparse(http::parser& again, std::string_view wire) {
  auto r = again.parse(wire);
  GANTRY_FUZZ_CHECK(
      r.event == http::parse_event::head,
      ("forwarded head not accepted: " + again.error().message() + "\n" + printable(wire)).c_str());
  wire.remove_prefix(r.consumed);
  // A message without a body ends at once; one with a body waits for it. Either way the
  // rest of the head must have been consumed without an error.
  for (int i = 0; i < 4; ++i) {
    r = again.parse(wire);
    wire.remove_prefix(r.consumed);
    if (r.event == http::parse_event::need_more || r.event == http::parse_event::upgrade) break;
    GANTRY_FUZZ_CHECK(r.event == http::parse_event::message_end,
                      ("forwarded head read differently: " + again.error().message()).c_str());
  }
  GANTRY_FUZZ_CHECK(wire.empty(), "forwarded head not consumed whole");
}

}  // namespace detail

/// The request side: what `prepare_upstream_head` sends upstream.
inline void check_forwarded_request(const http::parser& parsed) {
  http::request req = parsed.request();
  // `session::exchange`: a valid Host, the target in origin-form, the path normalised.
  if (auto host = req.fields.get("Host"); host && !http::is_valid_host(*host)) return;
  if (!http::to_origin_form(req)) return;
  if (http::normalize_path(req.target, {}) != http::path_error::none) return;
  std::string scratch;
  if (!http::prepare_for_forwarding(req.fields, parsed, scratch)) return;  // refused
  for (http::field f : req.fields) {
    GANTRY_FUZZ_CHECK(!http::is_hop_by_hop(f.name) || (parsed.chunked() &&
                                                        core::iequals(f.name, "Transfer-Encoding")),
                      "a hop-by-hop field survived");
    GANTRY_FUZZ_CHECK(!http::is_proxy_credentials(f.name), "proxy credentials survived");
  }
  req.fields.erase("Expect");
  if (!req.fields.contains("Host")) req.fields.add("Host", "upstream.test");
  req.version = http::http_1_1;

  std::string wire;
  http::serialize_head(req, wire);
  detail::check_no_conflicting_framing(req.fields, wire);

  http::parser again{http::parser_mode::request, forwarded_limits()};
  detail::reparse(again, wire);
  const http::request& back = again.request();
  GANTRY_FUZZ_CHECK(back.method == req.method, "forwarded method differs");
  GANTRY_FUZZ_CHECK(back.target == req.target, "forwarded target differs");
  std::string renormalized = back.target;  // the next hop, normalising too, sees the same path
  GANTRY_FUZZ_CHECK(http::normalize_path(renormalized, {}) == http::path_error::none &&
                        renormalized == back.target,
                    ("forwarded path not normal: " + printable(back.target)).c_str());
  GANTRY_FUZZ_CHECK(to_list(back.fields) == to_list(req.fields),
                    ("forwarded fields differ:\n sent " + describe(to_list(req.fields)) +
                     "\n read " + describe(to_list(back.fields)))
                        .c_str());
  GANTRY_FUZZ_CHECK(again.chunked() == parsed.chunked(), "forwarded framing differs (chunked)");
  GANTRY_FUZZ_CHECK(again.content_length() == parsed.content_length(),
                    "forwarded framing differs (Content-Length)");
}

/// The response side: what `prepare_client_head` sends to an HTTP/1.1 client (interim
/// responses as `forward_response` sends them). `bodyless` is true for 1xx, 204, 304 and the
/// answer to HEAD.
inline void check_forwarded_response(const http::parser& parsed, bool bodyless, bool head) {
  http::response res = parsed.response();
  const auto code = static_cast<unsigned>(res.status);
  if (code == 100 || code == 101) return;  // never forwarded
  std::string scratch;
  bool chunked_out = false;
  if (!http::prepare_for_forwarding(res.fields, parsed, scratch)) return;  // 502 instead
  if (code < 200) {
    res.fields.erase("Content-Length");
    res.fields.erase("Transfer-Encoding");
  } else {
    if (bodyless) {
      res.fields.erase("Transfer-Encoding");
    } else if (!parsed.content_length()) {
      if (!parsed.chunked()) res.fields.add("Transfer-Encoding", "chunked");
      chunked_out = true;
    }
    res.fields.add("Via", "1.1 gantry");
  }
  res.version = http::http_1_1;

  std::string wire;
  http::serialize_head(res, wire);
  detail::check_no_conflicting_framing(res.fields, wire);

  http::parser again{http::parser_mode::response, forwarded_limits()};
  again.expect_head_response(head);
  detail::reparse(again, wire);
  const http::response& back = again.response();
  GANTRY_FUZZ_CHECK(back.status == res.status, "forwarded status differs");
  std::string_view reason = res.reason.empty() ? http::reason_phrase(res.status) : res.reason;
  GANTRY_FUZZ_CHECK(back.reason == reason, "forwarded reason differs");
  GANTRY_FUZZ_CHECK(to_list(back.fields) == to_list(res.fields),
                    ("forwarded fields differ:\n sent " + describe(to_list(res.fields)) +
                     "\n read " + describe(to_list(back.fields)))
                        .c_str());
  if (code >= 200 && !bodyless) {
    GANTRY_FUZZ_CHECK(again.chunked() == chunked_out, "forwarded framing differs (chunked)");
    GANTRY_FUZZ_CHECK(chunked_out || again.content_length() == parsed.content_length(),
                      "forwarded framing differs (Content-Length)");
  }
}

}  // namespace gantry::fuzz
