// Fuzz target: chunked transfer coding, decoded by the request parser and encoded by the
// serializer.
//
// Input: a control byte, a seed byte, then the bytes that follow a request head announcing
// `Transfer-Encoding: chunked` (chunks, last chunk, trailers).
//   control bits 0-1  how the split runs cut their input (fuzz_support.hpp, split_mode)
//   control bits 2-3  how the body is re-chunked: pieces of 1-16 bytes, random sizes up to
//                     300, one chunk, or one byte per chunk
// Invariants:
// - whatever the parser accepts, a strict RFC 9112 7.1 reader (below) accepts too, with
//   the same body, the same trailers and the same end: no two readings of one stream;
// - the body re-encoded with serialize_chunk_size / chunk_terminator / serialize_last_chunk
//   is valid for that reader and parses back to the same body and trailers, ending exactly
//   where the bytes end.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "gantry/core/ascii.hpp"
#include "gantry/http/serializer.hpp"
#include "parse_driver.hpp"

namespace {

using gantry::fuzz::field_list;
using gantry::fuzz::is_field_value_byte;
using gantry::fuzz::is_tchar;

constexpr std::string_view head =
    "POST /upload HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\n";

struct decoded {
  std::string body;
  field_list trailers;
  std::size_t length = 0;  // bytes of the chunked body, trailers and final CRLF
};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// A strict reader of RFC 9112 7.1 written for this check alone:
///   chunked-body = *chunk last-chunk trailer-section CRLF
///   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
///   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
/// with chunk sizes of at most 16 significant hex digits, and chunk-ext read loosely (see
/// `extensions`). nullopt when malformed or cut short.
class reference_reader {
 public:
  explicit reference_reader(std::string_view in) noexcept : in_{in} {}

  std::optional<decoded> read() {
    decoded out;
    for (;;) {
      std::uint64_t size = 0;
      std::size_t digits = 0;
      std::size_t significant = 0;
      // Leading zeros are not counted against the 16: llhttp takes them, and they change no
      // reading of the size.
      for (int v; pos_ < in_.size() && (v = hex_value(in_[pos_])) >= 0; ++pos_, ++digits) {
        if ((size > 0 || v > 0) && ++significant > 16) return std::nullopt;
        size = size * 16 + static_cast<std::uint64_t>(v);
      }
      if (digits == 0 || !extensions() || !crlf()) return std::nullopt;
      if (size == 0) break;
      if (in_.size() - pos_ < size) return std::nullopt;
      out.body.append(in_.substr(pos_, static_cast<std::size_t>(size)));
      pos_ += static_cast<std::size_t>(size);
      if (!crlf()) return std::nullopt;
    }
    while (!crlf()) {
      std::size_t start = pos_;
      while (pos_ < in_.size() && is_tchar(in_[pos_])) ++pos_;
      if (pos_ == start || !next_is(':')) return std::nullopt;
      std::string name{in_.substr(start, pos_ - start - 1)};
      std::string value;
      for (;;) {
        start = pos_;
        while (pos_ < in_.size() && in_[pos_] != '\r' && is_field_value_byte(in_[pos_])) ++pos_;
        value.append(in_.substr(start, pos_ - start));
        if (!crlf()) return std::nullopt;
        // obs-fold (RFC 9112 5.2): the parser unfolds it, dropping the line break and keeping
        // the whitespace, as a recipient may; so does this reader.
        if (pos_ >= in_.size() || (in_[pos_] != ' ' && in_[pos_] != '\t')) break;
      }
      out.trailers.emplace_back(std::move(name), std::string{gantry::core::trim_ows(value)});
    }
    out.length = pos_;
    return out;
  }

 private:
  bool next_is(char c) noexcept {
    if (pos_ >= in_.size() || in_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool crlf() noexcept {
    if (in_.substr(pos_, 2) != "\r\n") return false;
    pos_ += 2;
    return true;
  }
  void ows() noexcept {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t')) ++pos_;
  }
  // chunk-ext, read loosely: BWS ";" and then any bytes but CR, LF and NUL up to the CR.
  // llhttp takes extensions the grammar refuses (";;", an empty name, DEL in a quoted
  // value); every recipient ignores them, and without CR or LF they cannot move the end of
  // the line, which is all that framing depends on. (The gateway drops them when it
  // re-chunks a body.)
  bool extensions() noexcept {
    std::size_t before = pos_;
    ows();
    if (!next_is(';')) {
      pos_ = before;
      return true;
    }
    while (pos_ < in_.size() && in_[pos_] != '\r' && in_[pos_] != '\n' && in_[pos_] != '\0') ++pos_;
    return true;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

/// Offset of the first message_end in `t`, from its "end@N" event.
std::optional<std::size_t> first_end(const gantry::fuzz::transcript& t) {
  for (const auto& e : t.events)
    if (e.starts_with("end@")) return std::stoul(e.substr(4));
  return std::nullopt;
}

std::string encode(std::string_view body, const field_list& trailers, unsigned how,
                   std::uint8_t seed) {
  using namespace gantry;
  std::string out;
  fuzz::xorshift random{seed};
  const std::size_t fixed = seed % 16 + 1;
  while (!body.empty()) {
    std::size_t n = body.size();
    switch (how & 3) {
      case 0:
        n = fixed;
        break;
      case 1:
        n = random.upto(299) + 1;
        break;
      case 2:
        break;
      case 3:
        n = 1;
        break;
    }
    auto piece = body.substr(0, n);
    http::serialize_chunk_size(piece.size(), out);
    out.append(piece);
    out.append(http::chunk_terminator);
    body.remove_prefix(piece.size());
  }
  http::headers fields;
  for (const auto& [name, value] : trailers) fields.add(name, value);
  http::serialize_last_chunk(fields, out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gantry;
  fuzz::input_reader in{data, size};
  const std::uint8_t control = in.byte();
  const std::uint8_t seed = in.byte();
  const auto mode = static_cast<fuzz::split_mode>(control & 3);
  const std::string_view chunked = in.rest();

  fuzz::drive_options options;
  std::string wire{head};
  wire.append(chunked);
  fuzz::transcript t = fuzz::check_split_invariance(wire, mode, seed, options);
  GANTRY_FUZZ_CHECK(!t.messages.empty(), "the fixed head was not accepted");
  const fuzz::message_record& m = t.messages.front();
  GANTRY_FUZZ_CHECK(m.chunked, "the fixed head is not chunked");
  if (!m.ended) return 0;

  auto reference = reference_reader{chunked}.read();
  GANTRY_FUZZ_CHECK(
      reference.has_value(),
      ("the parser accepted a chunked body that RFC 9112 rejects:\n" + fuzz::printable(chunked))
          .c_str());
  GANTRY_FUZZ_CHECK(reference->body == m.body, "the parser and RFC 9112 disagree on the body");
  GANTRY_FUZZ_CHECK(reference->trailers == m.trailers,
                    ("the parser and RFC 9112 disagree on the trailers: parser " +
                     fuzz::describe(m.trailers) + ", RFC " + fuzz::describe(reference->trailers))
                        .c_str());
  GANTRY_FUZZ_CHECK(first_end(t) == head.size() + reference->length,
                    "the parser and RFC 9112 disagree on where the body ends");

  // Round trip: re-encode, then the strict reader and a fresh parser must both read it back.
  std::string encoded = encode(m.body, m.trailers, control >> 2, seed);
  auto again = reference_reader{encoded}.read();
  GANTRY_FUZZ_CHECK(
      again && again->body == m.body && again->trailers == m.trailers &&
          again->length == encoded.size(),
      ("the serializer wrote invalid chunked framing:\n" + fuzz::printable(encoded)).c_str());
  std::string rewire{head};
  rewire.append(encoded);
  fuzz::transcript back =
      fuzz::check_split_invariance(rewire, static_cast<fuzz::split_mode>(seed & 3), seed, options);
  GANTRY_FUZZ_CHECK(!back.error && back.messages.size() == 1 && back.messages.front().ended,
                    ("the re-encoded body did not parse:\n" + fuzz::describe(back)).c_str());
  GANTRY_FUZZ_CHECK(back.messages.front().body == m.body, "the re-encoded body differs");
  GANTRY_FUZZ_CHECK(back.messages.front().trailers == m.trailers, "re-encoded trailers differ");
  GANTRY_FUZZ_CHECK(first_end(back) == rewire.size(), "the re-encoded body ends early");
  return 0;
}
