// The only translation unit that sees llhttp: callbacks pause llhttp at every event so that
// `parser::parse` can hand one event at a time to its caller.
#include "gantry/http/parser.hpp"

#include <llhttp.h>
#include <algorithm>
#include <cstring>

#include "gantry/core/ascii.hpp"
#include "gantry/http/error.hpp"
#include "gantry/http/status.hpp"

namespace gantry::http {
namespace {

// One or more transfer-coding = token *( OWS ";" OWS token "=" token ) (RFC 9112 7; quoted
// parameter values, which no coding in use has, are refused). llhttp looks only for a final
// "chunked" and lets anything else through, "gzip, \xff" included, and takes an empty field
// for no field at all; a peer that reads the list otherwise would frame the body otherwise.
bool valid_transfer_codings(std::string_view list) noexcept {
  bool valid = true;
  std::size_t codings = 0;
  core::for_each_list_element(list, [&](std::string_view coding) {
    ++codings;
    auto semicolon = coding.find(';');
    valid = core::is_token(core::trim_ows(coding.substr(0, semicolon)));
    while (valid && semicolon != std::string_view::npos) {
      coding.remove_prefix(semicolon + 1);
      semicolon = coding.find(';');
      auto parameter = coding.substr(0, semicolon);
      auto equals = parameter.find('=');
      valid = equals != std::string_view::npos &&
              core::is_token(core::trim_ows(parameter.substr(0, equals))) &&
              core::is_token(core::trim_ows(parameter.substr(equals + 1)));
    }
    return valid;
  });
  return valid && codings > 0;
}

}  // namespace

struct parser::impl {
  // Which span callback ran last: a field or value may arrive in several fragments.
  enum class span : std::uint8_t { none, field, value };

  llhttp_t llhttp{};
  parser_mode mode;
  parser_limits limits;
  http::request request;
  http::response response;
  headers trailers;
  std::string_view body;
  errc failure{};
  parse_event pending = parse_event::need_more;
  span last = span::none;
  // Bytes of the name of the field being read.
  std::size_t name_length = 0;
  // The part of a request line with an unknown method being read, and its bytes so far.
  enum class line_part : std::uint8_t { none, method, target, version };
  static constexpr std::size_t max_method_length = 64;
  line_part scanning = line_part::none;
  std::size_t scanned = 0;
  bool failed = false;
  bool upgraded = false;
  bool in_message = false;
  bool expect_head = false;
  bool head_reported = false;
  bool deferred_end = false;
  bool keep_alive = false;
  bool chunked = false;
  bool until_close = false;
  // The last message ended the connection: anything but stray line breaks after it is an error.
  bool closed = false;
  // The last message switches protocols: what follows it is the new protocol's, even a CRLF.
  bool upgrade_after = false;
  std::optional<std::uint64_t> content_length;
  // The head's fields are not read through llhttp's span callbacks (three calls per field,
  // each copying its piece) but marked in a copy of the head's bytes once llhttp has accepted
  // them (`read_head`); the trailer section, rare, still comes through the callbacks.
  bool in_start_line = true;   // the head's first line not yet read
  std::size_t line_begin = 0;  // where the first line not yet read begins in the copy
  // How far the line not yet read has been searched (for its end, its colon, a double SP),
  // and whether it has a colon there: a line may come a byte at a time.
  std::size_t partial_searched = 0;
  bool partial_colon = false;
  bool value_open = false;         // the last field's value may go on in an obs-fold line
  bool transfer_encoding = false;  // the head has a Transfer-Encoding field
  // Bytes counted against `limits.max_header_section`: in the head, each field line but its
  // colon and line end (so the whitespace around values counts: the copy of the head goes
  // past the limit by one input at most), and a response's reason phrase; in the trailer
  // section, names and values.
  std::size_t head_bytes = 0;
  std::size_t trailer_bytes = 0;
  std::uint64_t body_bytes = 0;
  // Bytes of the current chunk's data not yet seen, and how many of the CRLF that must follow
  // it are still to be checked.
  std::uint64_t chunk_remaining = 0;
  std::uint8_t crlf_pending = 0;
  // The last byte consumed outside body data was a CR, or an LF: a line end, or an obs-fold,
  // may be split across inputs.
  bool after_cr = false;
  bool after_lf = false;
  // Where the chunked framing (the bytes around chunk data) stands: in a chunk-size line
  // (`chunk_line_bytes` of it seen, `chunk_size_nonzero` once a digit other than 0 came),
  // in the CRLF after chunk data, or past the last chunk.
  enum class chunk_framing : std::uint8_t { size_line, data_end, trailers };
  chunk_framing chunk_state = chunk_framing::size_line;
  std::size_t chunk_line_bytes = 0;
  bool chunk_size_nonzero = false;
  bool chunk_size_done = false;
  // The version as written ("1.1"): llhttp itself rejects any version but 0.9, 1.0, 1.1 and
  // 2.0 as malformed, where a well-formed but other version deserves 505.
  char version_text[3]{};
  std::uint8_t version_length = 0;

  impl(parser_mode m, parser_limits l) : mode{m}, limits{l} {
    llhttp_init(&llhttp, m == parser_mode::request ? HTTP_REQUEST : HTTP_RESPONSE,
                &settings(false));
    llhttp.data = this;
  }

  static impl& of(llhttp_t* p) noexcept { return *static_cast<impl*>(p->data); }

  int fail(errc e) noexcept {
    failure = e;
    return HPE_USER;
  }

  headers& head_fields() noexcept {
    return mode == parser_mode::request ? request.fields : response.fields;
  }

  // Counts trailer name and value bytes against the header-section limit.
  bool charge_trailer(std::size_t length) noexcept {
    trailer_bytes += length;
    return trailer_bytes <= limits.max_header_section;
  }

  static int on_message_begin(llhttp_t* p) {
    impl& self = of(p);
    self.request.clear();
    self.response.clear();
    self.trailers.clear();
    self.last = span::none;
    self.in_message = true;
    self.head_reported = false;
    self.chunked = false;
    self.until_close = false;
    self.content_length.reset();
    self.in_start_line = true;
    self.line_begin = 0;
    self.partial_searched = 0;
    self.partial_colon = false;
    self.upgrade_after = false;
    self.value_open = false;
    self.transfer_encoding = false;
    self.head_bytes = 0;
    self.trailer_bytes = 0;
    p->settings = const_cast<llhttp_settings_t*>(&settings(false));
    self.body_bytes = 0;
    self.chunk_remaining = 0;
    self.crlf_pending = 0;
    self.version_length = 0;
    self.chunk_state = chunk_framing::size_line;
    self.chunk_line_bytes = 0;
    self.chunk_size_nonzero = false;
    self.chunk_size_done = false;
    return 0;
  }

  static int on_url(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    if (self.request.target.size() + length > self.limits.max_target_length)
      return self.fail(errc::target_too_long);
    // Loose llhttp lets tabs and non-ASCII bytes through; RFC 3986 allows neither.
    for (std::size_t i = 0; i < length; ++i) {
      auto c = static_cast<unsigned char>(at[i]);
      if (c <= 0x20 || c >= 0x7f) return self.fail(errc::bad_message);
    }
    self.request.target.append(at, length);
    return 0;
  }

  static int on_version(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    for (std::size_t i = 0; i < length; ++i) {
      if (self.version_length == sizeof self.version_text) return self.fail(errc::bad_message);
      self.version_text[self.version_length++] = at[i];
    }
    const char* v = self.version_text;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (self.version_length == 3 && digit(v[0]) && v[1] == '.' && digit(v[2]) &&
        !(v[0] == '1' && (v[2] == '0' || v[2] == '1')))
      return self.fail(errc::unsupported_version);
    return 0;
  }

  static int on_status(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    self.head_bytes += length;
    if (self.head_bytes > self.limits.max_header_section)
      return self.fail(errc::header_section_too_large);
    // llhttp 8 takes any byte but CR and LF; RFC 9112 4 allows HTAB, SP, VCHAR and obs-text.
    for (std::size_t i = 0; i < length; ++i) {
      auto c = static_cast<unsigned char>(at[i]);
      if ((c < 0x20 && c != '\t') || c == 0x7f) return self.fail(errc::bad_message);
    }
    self.response.reason.append(at, length);
    return 0;
  }

  // The trailer section's fields, in fragments.
  static int on_header_field(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    if (!self.charge_trailer(length)) return self.fail(errc::header_section_too_large);
    // No SP or HTAB before the colon (RFC 9112 5.1): strict llhttp refuses both, in heads and
    // trailers, requests and responses (the parser tests hold it to that).
    header_builder builder{self.trailers};
    if (self.last == span::field) {
      builder.append_name({at, length});
      self.name_length += length;
    } else {
      if (builder.target.size() >= self.limits.max_field_count)
        return self.fail(errc::too_many_fields);
      builder.begin_field({at, length});
      self.name_length = length;
    }
    self.last = span::field;
    return 0;
  }

  static int on_header_value(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    // llhttp reports ": value" as a field with an empty name; a field name is a token.
    if (self.last == span::none || self.name_length == 0) return self.fail(errc::bad_message);
    if (!self.charge_trailer(length)) return self.fail(errc::header_section_too_large);
    header_builder builder{self.trailers};
    if (self.last == span::value) {
      builder.append_value({at, length});
    } else {
      builder.begin_value({at, length});
    }
    self.last = span::value;
    return 0;
  }

  static int on_header_value_complete(llhttp_t* p) {
    impl& self = of(p);
    if (self.last == span::none || self.name_length == 0) return self.fail(errc::bad_message);
    header_builder{self.trailers}.end_value();
    self.last = span::none;
    return 0;
  }

  static int on_headers_complete(llhttp_t* p) {
    impl& self = of(p);
    if (p->http_major != 1 || p->http_minor > 1) return self.fail(errc::unsupported_version);
    http::version v{p->http_major, p->http_minor};
    bool skip_body = false;
    if (self.mode == parser_mode::request) {
      self.request.method = static_cast<http::method>(p->method);
      self.request.version = v;
      // A request whose last transfer coding is not chunked has no knowable length
      // (RFC 9112 6.3); llhttp says so only after the head, reject it before.
      if ((p->flags & F_TRANSFER_ENCODING) != 0 && (p->flags & F_CHUNKED) == 0)
        return self.fail(errc::bad_message);
      // HTTP/1.0 has no transfer codings: its framing is faulty (RFC 9112 6.1), and a peer
      // that reads it by Content-Length or the close would see another message boundary.
      if ((p->flags & F_TRANSFER_ENCODING) != 0 && p->http_minor == 0)
        return self.fail(errc::bad_message);
      // A CONNECT request has no content (RFC 9110 9.3.6): llhttp takes what follows its head
      // for the tunnel whatever its framing says, where a peer that honours the framing
      // would read a body first.
      if (p->method == HTTP_CONNECT &&
          ((p->flags & F_TRANSFER_ENCODING) != 0 ||
           ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > 0)))
        return self.fail(errc::bad_message);
    } else {
      if (p->status_code < 100) return self.fail(errc::bad_message);
      self.response.status = static_cast<http::status>(p->status_code);
      self.response.version = v;
      // llhttp 8 reads a body after 1xx, 204 and 304 when framing fields announce one; those
      // responses never have one (RFC 9110 6.4.1), nor does the answer to HEAD. Interim
      // responses leave a pending HEAD expectation for the final response.
      if (p->status_code >= 200 && self.expect_head) {
        self.expect_head = false;
        skip_body = true;
      }
      if (is_bodyless(self.response.status)) skip_body = true;
    }
    self.chunked = (p->flags & F_CHUNKED) != 0;
    if (!self.chunked && (p->flags & F_CONTENT_LENGTH) != 0) {
      self.content_length = p->content_length;
      if (!skip_body && p->content_length > self.limits.max_body_size)
        return self.fail(errc::body_too_large);
    }
    self.keep_alive = llhttp_should_keep_alive(p) != 0;
    self.last = span::none;
    p->settings = const_cast<llhttp_settings_t*>(&settings(true));
    if (skip_body) {
      // Returning 1 tells llhttp there is no body; the head is reported when the message end
      // (which follows at once) pauses the parser.
      return 1;
    }
    self.until_close = self.mode == parser_mode::response && !self.chunked &&
                       !self.content_length && llhttp_message_needs_eof(p) != 0;
    self.head_reported = true;
    self.pending = parse_event::head;
    return HPE_PAUSED;
  }

  static int on_chunk_header(llhttp_t* p) {
    impl& self = of(p);
    // Refuse an oversized chunk from its size line, before any of its data arrives.
    if (p->content_length > self.limits.max_body_size - self.body_bytes)
      return self.fail(errc::body_too_large);
    self.chunk_remaining = p->content_length;
    return 0;
  }

  static int on_body(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    // llhttp flushes an open body span at the end of every input, empty or not; pausing on
    // an empty piece would hand the caller a body event that consumed nothing, forever.
    if (length == 0) return 0;
    self.body_bytes += length;
    if (self.body_bytes > self.limits.max_body_size) return self.fail(errc::body_too_large);
    if (self.chunked) {
      self.chunk_remaining -= length;
      // Loose llhttp skips the two bytes after chunk data unchecked; `parse` checks them.
      if (self.chunk_remaining == 0) self.crlf_pending = 2;
    }
    self.body = {at, length};
    self.pending = parse_event::body;
    return HPE_PAUSED;
  }

  static int on_message_complete(llhttp_t* p) {
    impl& self = of(p);
    self.keep_alive = llhttp_should_keep_alive(p) != 0;
    self.closed = !self.keep_alive && p->upgrade == 0;
    self.upgrade_after = p->upgrade != 0;
    self.in_message = false;
    self.pending = parse_event::message_end;
    return HPE_PAUSED;
  }

  // The callbacks for a head, or (with the field callbacks) for what follows it.
  static const llhttp_settings_t& settings(bool trailer_fields) noexcept {
    static const auto make = [](bool fields) {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = on_message_begin;
      s.on_url = on_url;
      s.on_version = on_version;
      s.on_status = on_status;
      if (fields) {
        s.on_header_field = on_header_field;
        s.on_header_value = on_header_value;
        s.on_header_value_complete = on_header_value_complete;
      }
      s.on_headers_complete = on_headers_complete;
      s.on_chunk_header = on_chunk_header;
      s.on_body = on_body;
      s.on_message_complete = on_message_complete;
      return s;
    };
    static const llhttp_settings_t head = make(false);
    static const llhttp_settings_t rest = make(true);
    return trailer_fields ? rest : head;
  }

  // Checks the line breaks at the start of the `size` bytes at `data`, between messages;
  // `from` is set past them. Each must be a CRLF.
  bool skip_line_breaks(const char* data, std::size_t size, std::size_t& from) noexcept {
    bool cr = after_cr;
    for (; from < size && (data[from] == '\r' || data[from] == '\n'); ++from) {
      if ((data[from] == '\n') != cr) return fail_bool(errc::bad_message);
      cr = data[from] == '\r';
    }
    return from == size || !cr || fail_bool(errc::bad_message);
  }

  // Reads the fields in `bytes` of the head, which llhttp has just accepted, copying them to
  // the head's fields first; `complete`: they end the head. False, with `failure` set, when
  // the head goes over a limit or is refused.
  //
  // Refused here rather than by llhttp: a bare LF, which llhttp 8 takes after the start line
  // and as the empty line that ends a head (RFC 9112 2.2 lets a recipient do so, but a peer
  // that does not would see the message differently); and in a request, obs-fold and a second
  // SP in a row in the request line, which llhttp reads as RFC 9112 5.2 and 3 let a server do
  // (unfolded; "GET  /a  HTTP/1.1" as "GET /a HTTP/1.1"): a peer that takes the folded line
  // for a field of its own reads another head, and one that splits the request line at each
  // SP reads another target. llhttp never reads past a head's end before this runs: it
  // pauses there, so a refused head ends the parse before anything after it is seen.
  bool read_head(std::string_view bytes, bool complete) {
    header_builder b{head_fields()};
    b.append_raw(bytes);
    const std::string_view raw = b.raw();
    for (;;) {
      const std::size_t from = std::max(line_begin, partial_searched);
      const auto* found =
          static_cast<const char*>(std::memchr(raw.data() + from, '\n', raw.size() - from));
      if (found == nullptr) break;
      const auto lf = static_cast<std::size_t>(found - raw.data());
      if (lf == line_begin || raw[lf - 1] != '\r') return fail_bool(errc::bad_message);
      if (!read_line(b, line_begin, lf - 1)) return false;
      line_begin = lf + 1;
      partial_colon = false;
    }
    if (complete) {
      end_field(b);
      return true;
    }
    return partial_line_fits(raw);
  }

  // Reads the head line [begin, cr) of the copy.
  bool read_line(header_builder& b, std::size_t begin, std::size_t cr) {
    const std::string_view raw = b.raw();
    const bool request = mode == parser_mode::request;
    if (in_start_line) {
      in_start_line = false;
      return !request || !has_double_sp(raw.substr(begin, cr - begin)) ||
             fail_bool(errc::bad_message);
    }
    if (cr == begin) {  // the empty line that ends the head
      end_field(b);
      return true;
    }
    if (raw[begin] == ' ' || raw[begin] == '\t') {
      // obs-fold: in a response, unfolded, its whitespace kept unless the value is still
      // empty (llhttp reads it so).
      if (request || !value_open) return fail_bool(errc::bad_message);
      const std::size_t from = continuation_start(b, begin, cr);
      b.continue_value(from, cr - from);
      return charge_head(cr - begin);
    }
    end_field(b);
    if (b.target.size() >= limits.max_field_count) return fail_bool(errc::too_many_fields);
    // llhttp has read the line: a token, a colon (it reports ": v" as a nameless field).
    std::size_t colon = begin;
    while (colon < cr && raw[colon] != ':') ++colon;
    if (colon == begin || colon == cr) return fail_bool(errc::bad_message);
    std::size_t value = colon + 1;
    while (value < cr && (raw[value] == ' ' || raw[value] == '\t')) ++value;
    b.add_raw_field(begin, colon - begin, value, cr - value);
    const std::string_view name = raw.substr(begin, colon - begin);
    transfer_encoding = transfer_encoding || core::iequals(name, "Transfer-Encoding");
    value_open = true;
    return charge_head(cr - begin - 1);
  }

  // Where the text of the obs-fold line [begin, end) starts: at once, or after its whitespace
  // when the value so far is empty.
  static std::size_t continuation_start(const header_builder& b, std::size_t begin,
                                        std::size_t end) noexcept {
    if (!b.target.empty() && !b.last().value.empty()) return begin;
    const std::string_view raw = b.raw();
    while (begin < end && (raw[begin] == ' ' || raw[begin] == '\t')) ++begin;
    return begin;
  }

  // A second SP in a row, which a request line must not have.
  static bool has_double_sp(std::string_view line) noexcept {
    for (std::size_t i = 1; i < line.size(); ++i)
      if (line[i] == ' ' && line[i - 1] == ' ') return true;
    return false;
  }

  void end_field(header_builder& b) noexcept {
    if (value_open) b.end_value();
    value_open = false;
  }

  // Whether the line llhttp is still reading, counted as far as it goes, keeps the head
  // within its limits: a head must not grow without bound before its first line break.
  bool partial_line_fits(std::string_view raw) {
    const std::size_t begin = line_begin;
    const std::size_t from = std::max(begin, partial_searched);
    partial_searched = raw.size();
    if (in_start_line) {
      const std::size_t pairs_from = from > begin ? from - 1 : begin;
      return mode == parser_mode::response || !has_double_sp(raw.substr(pairs_from)) ||
             fail_bool(errc::bad_message);
    }
    std::size_t end = raw.size();
    if (end > begin && raw[end - 1] == '\r') --end;
    if (end == begin) return true;
    if (raw[begin] == ' ' || raw[begin] == '\t') {
      if (mode == parser_mode::request) return fail_bool(errc::bad_message);
      return fits(end - begin);
    }
    if (head_fields().size() >= limits.max_field_count) return fail_bool(errc::too_many_fields);
    if (raw[begin] == ':') return fail_bool(errc::bad_message);
    partial_colon = partial_colon || raw.find(':', from) != std::string_view::npos;
    return fits(end - begin - (partial_colon ? 1 : 0));
  }

  bool charge_head(std::size_t length) noexcept {
    head_bytes += length;
    return head_bytes <= limits.max_header_section || fail_bool(errc::header_section_too_large);
  }
  bool fits(std::size_t more) noexcept {
    return head_bytes + more <= limits.max_header_section ||
           fail_bool(errc::header_section_too_large);
  }
  bool fail_bool(errc e) noexcept {
    failure = e;
    return false;
  }

  // llhttp looks only for a final "chunked"; every coding must be well formed.
  bool transfer_codings_valid() noexcept {
    if (!transfer_encoding) return true;
    for (field f : head_fields())
      if (core::iequals(f.name, "Transfer-Encoding") && !valid_transfer_codings(f.value))
        return false;
    return true;
  }

  // Where the first LF without a CR before it is among the chunked framing bytes at the
  // start of `data` (chunk lines, the CRLF after chunk data, the trailer section), or `size`
  // when there is none: as in a head (`read_head`), llhttp takes a bare LF where a peer may
  // not. In a request, so is the whitespace that starts an obs-fold line in the trailer
  // section, or a chunk line (where it is malformed anyway).
  std::size_t first_bare_lf(const char* data, std::size_t size) noexcept {
    const bool request = mode == parser_mode::request;
    // Only the bytes around each LF matter: the one before it (CR) and the one after it.
    bool cr = after_cr;
    bool lf = after_lf;
    for (std::size_t i = 0; i < size;) {
      if (request && lf && (data[i] == ' ' || data[i] == '\t')) return i;
      const auto* found = static_cast<const char*>(std::memchr(data + i, '\n', size - i));
      const std::size_t end = found != nullptr ? static_cast<std::size_t>(found - data) : size;
      if (end > i) {
        cr = data[end - 1] == '\r';
        lf = false;
      }
      if (found == nullptr) break;
      if (!cr) return end;
      cr = false;
      lf = true;
      i = end + 1;
    }
    return size;
  }

  // Follows the chunked framing bytes at the start of `data` (the chunk lines, the CRLF after
  // each chunk's data, the last chunk and the trailers); false when a chunk-size line with its
  // extensions runs past `limits.max_chunk_line`. llhttp skips extensions unbounded, which
  // would let a client send without end and without ever making body progress.
  bool follow_chunk_framing(const char* data, std::size_t size) noexcept {
    for (std::size_t i = 0; i < size && chunk_state != chunk_framing::trailers; ++i) {
      char c = data[i];
      if (chunk_state == chunk_framing::data_end) {
        if (c == '\n') chunk_state = chunk_framing::size_line;
        continue;
      }
      if (++chunk_line_bytes > limits.max_chunk_line) return false;
      if (c == '\n') {
        chunk_state = chunk_size_nonzero ? chunk_framing::data_end : chunk_framing::trailers;
        chunk_line_bytes = 0;
        chunk_size_nonzero = false;
        chunk_size_done = false;
      } else if (!chunk_size_done) {
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex) chunk_size_done = true;
        if (hex && c != '0') chunk_size_nonzero = true;
      }
    }
    return true;
  }

  result fail_now(errc e) noexcept {
    failed = true;
    failure = e;
    return {parse_event::error, 0};
  }

  result end_deferred() noexcept {
    deferred_end = false;
    in_message = false;
    return {parse_event::message_end, 0};
  }

  result error_result(llhttp_errno_t code, std::size_t consumed) noexcept {
    failed = true;
    // A callback that failed on purpose recorded why; llhttp reports it under its own code.
    if (failure == errc{}) {
      failure = code == HPE_INVALID_EOF_STATE ? errc::partial_message : errc::bad_message;
    }
    return {parse_event::error, consumed};
  }

  // Turns what llhttp returned into the event the callbacks recorded.
  result conclude(llhttp_errno_t code, const char* begin, std::size_t size) noexcept {
    if (code == HPE_OK) return {parse_event::need_more, size};
    const char* position = llhttp_get_error_pos(&llhttp);
    std::size_t consumed = position ? static_cast<std::size_t>(position - begin) : size;
    if (code == HPE_PAUSED) {
      llhttp_resume(&llhttp);
      if (pending == parse_event::message_end && !head_reported) {
        // A message without a body: report its head now and its end on the next call, and
        // count it as in progress until then.
        head_reported = true;
        deferred_end = true;
        in_message = true;
        return {parse_event::head, consumed};
      }
      return {pending, consumed};
    }
    if (code == HPE_PAUSED_UPGRADE) {
      upgraded = true;
      return {parse_event::upgrade, consumed};
    }
    if (code == HPE_INVALID_METHOD && position != nullptr && core::is_tchar(*position)) {
      // llhttp knows a fixed list of methods and fails at the first byte that leaves it; what
      // it matched so far was tokens. A method is any token (RFC 9110 9.1), so a request line
      // that is well formed but for llhttp's list names a method Gantry lacks: 501, not 400.
      // Its rest may come in later inputs.
      scanning = line_part::method;
      scanned = 0;
      return scan_request_line(position, begin + size, size);
    }
    return error_result(code, consumed);
  }

  // Reads on through the request line llhttp's method list refused.
  result scan_request_line(const char* c, const char* end, std::size_t consumed) noexcept {
    static constexpr std::string_view version = "HTTP/d.d\r\n";
    for (; c != end; ++c) {
      const auto b = static_cast<unsigned char>(*c);
      switch (scanning) {
        case line_part::method:
          if (b == ' ') {
            scanning = line_part::target;
            scanned = 0;
          } else if (!core::is_tchar(*c)) {
            return fail_now(errc::bad_message);
          } else if (++scanned == max_method_length) {
            // No method is this long; it is a token, so one Gantry does not know.
            return fail_now(errc::unknown_method);
          }
          break;
        case line_part::target:
          if (b == ' ' && scanned > 0) {
            scanning = line_part::version;
            scanned = 0;
          } else if (b <= 0x20 || b >= 0x7f) {
            return fail_now(errc::bad_message);
          } else if (++scanned > limits.max_target_length) {
            return fail_now(errc::target_too_long);
          }
          break;
        case line_part::version: {
          const char expected = version[scanned];
          if (expected == 'd' ? (*c < '0' || *c > '9') : *c != expected)
            return fail_now(errc::bad_message);
          if (++scanned == version.size()) return fail_now(errc::unknown_method);
          break;
        }
        case line_part::none:
          return fail_now(errc::bad_message);
      }
    }
    return {parse_event::need_more, consumed};
  }
};

parser::parser(parser_mode mode, parser_limits limits)
    : impl_{std::make_unique<impl>(mode, limits)} {}
parser::~parser() = default;
parser::parser(parser&&) noexcept = default;
parser& parser::operator=(parser&&) noexcept = default;

parser::result parser::parse(std::string_view input) {
  impl& s = *impl_;
  if (s.failed) return {parse_event::error, 0};
  if (s.deferred_end) return s.end_deferred();
  if (s.upgraded) return {parse_event::upgrade, 0};
  if (s.scanning != impl::line_part::none) {
    return s.scan_request_line(input.data(), input.data() + input.size(), input.size());
  }
  if (s.closed) {
    // Strict llhttp rejects data after a message that closes the connection, loose llhttp
    // drops it silently; either way no message may follow.
    for (char c : input)
      if (c != '\r' && c != '\n') return s.fail_now(errc::bad_message);
    return {parse_event::need_more, input.size()};
  }
  for (std::size_t i = 0; s.crlf_pending > 0 && i < input.size(); ++i, --s.crlf_pending) {
    if (input[i] != "\r\n"[2 - s.crlf_pending]) return s.fail_now(errc::bad_message);
  }
  // Between messages no bytes means no event: the gateway looks at its empty buffer once per
  // exchange before the upstream answers. (Within a message llhttp may still end it without
  // new bytes, after a body piece that completed its length.)
  if (input.empty() && !s.in_message) return {parse_event::need_more, 0};
  s.pending = parse_event::need_more;
  // llhttp restarts an open span (a field name cut by the end of the last input) at the new
  // data pointer, and a null one would lose it; an empty view may well carry a null pointer.
  static constexpr char no_data = 0;
  const char* data = input.data() != nullptr ? input.data() : &no_data;
  std::size_t size = input.size();
  const bool in_head = !(s.in_message && s.head_reported);
  const bool in_chunked_body = !in_head && s.chunked;
  // Between messages llhttp skips any CR and LF; where a message begins, after them.
  std::size_t from = 0;
  if (!s.in_message && !s.upgrade_after && !s.skip_line_breaks(data, size, from))
    return s.fail_now(s.failure);
  auto code = llhttp_execute(&s.llhttp, data, size);
  result r = s.conclude(code, data, size);
  if (in_head && s.in_message && s.scanning == impl::line_part::none && r.consumed >= from &&
      (r.event == parse_event::need_more || r.event == parse_event::head ||
       r.event == parse_event::error)) {
    // The head bytes llhttp accepted (it pauses at a head's end), unless its method is one
    // llhttp does not know. Those before an error too: what is refused here comes first, as
    // it would had llhttp been shown only the bytes before it, whatever the split.
    const bool head = r.event == parse_event::head;
    if (!s.read_head({data + from, r.consumed - from}, head)) return s.fail_now(s.failure);
    if (head && !s.transfer_codings_valid()) return s.fail_now(errc::bad_message);
  }
  if (in_chunked_body && r.event != parse_event::error) {
    // Chunk lines and trailers: everything consumed but a body piece, which ends the call.
    std::size_t framing =
        r.event == parse_event::body ? static_cast<std::size_t>(s.body.data() - data) : r.consumed;
    if (s.first_bare_lf(data, framing) < framing) return s.fail_now(errc::bad_message);
    if (!s.follow_chunk_framing(data, framing)) return s.fail_now(errc::bad_message);
  }
  if (r.event == parse_event::body) {
    s.after_cr = false;
    s.after_lf = false;
  } else if (r.consumed > 0) {
    s.after_cr = data[r.consumed - 1] == '\r';
    s.after_lf = data[r.consumed - 1] == '\n';
  }
  return r;
}

parser::result parser::finish() {
  impl& s = *impl_;
  if (s.failed) return {parse_event::error, 0};
  if (s.deferred_end) return s.end_deferred();
  if (s.scanning != impl::line_part::none) return s.fail_now(errc::partial_message);
  if (!s.in_message) return {parse_event::need_more, 0};
  s.pending = parse_event::need_more;
  auto code = llhttp_finish(&s.llhttp);
  if (code == HPE_OK) {
    // llhttp calls a message that never began safe; a started one without a callback is not.
    if (s.in_message) {
      s.failed = true;
      s.failure = errc::partial_message;
      return {parse_event::error, 0};
    }
    return {parse_event::need_more, 0};
  }
  if (code == HPE_PAUSED) {
    llhttp_resume(&s.llhttp);
    return {s.pending, 0};
  }
  return s.error_result(code, 0);
}

void parser::set_limits(parser_limits limits) noexcept { impl_->limits = limits; }

void parser::reset() noexcept {
  impl& s = *impl_;
  http::request request = std::move(s.request);
  http::response response = std::move(s.response);
  headers trailers = std::move(s.trailers);
  s = impl{s.mode, s.limits};
  s.llhttp.data = &s;
  request.clear();
  response.clear();
  trailers.clear();
  s.request = std::move(request);
  s.response = std::move(response);
  s.trailers = std::move(trailers);
}

void parser::expect_head_response(bool yes) noexcept { impl_->expect_head = yes; }

const http::request& parser::request() const noexcept { return impl_->request; }
http::request& parser::request() noexcept { return impl_->request; }
const http::response& parser::response() const noexcept { return impl_->response; }
http::response& parser::response() noexcept { return impl_->response; }
const headers& parser::trailers() const noexcept { return impl_->trailers; }
std::string_view parser::body() const noexcept { return impl_->body; }
bool parser::body_complete() const noexcept {
  return !impl_->chunked && impl_->content_length && impl_->body_bytes == *impl_->content_length;
}

std::error_code parser::error() const noexcept {
  return impl_->failed ? make_error_code(impl_->failure) : std::error_code{};
}

bool parser::keep_alive() const noexcept { return impl_->keep_alive; }
bool parser::chunked() const noexcept { return impl_->chunked; }
std::optional<std::uint64_t> parser::content_length() const noexcept {
  return impl_->content_length;
}
bool parser::body_until_close() const noexcept { return impl_->until_close; }
bool parser::in_message() const noexcept { return impl_->in_message; }

}  // namespace gantry::http
