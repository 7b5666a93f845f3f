// The only translation unit that sees llhttp: callbacks pause llhttp at every event so that
// `parser::parse` can hand one event at a time to its caller.
#include "gantry/http/parser.hpp"

#include <llhttp.h>

#include "gantry/http/error.hpp"

namespace gantry::http {

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
  bool failed = false;
  bool upgraded = false;
  bool in_message = false;
  bool in_trailers = false;
  bool expect_head = false;
  bool head_reported = false;
  bool deferred_end = false;
  bool keep_alive = false;
  bool chunked = false;
  bool until_close = false;
  std::optional<std::uint64_t> content_length;
  std::size_t header_bytes = 0;
  std::uint64_t body_bytes = 0;

  impl(parser_mode m, parser_limits l) : mode{m}, limits{l} {
    llhttp_init(&llhttp, m == parser_mode::request ? HTTP_REQUEST : HTTP_RESPONSE,
                &settings());
    llhttp.data = this;
  }

  static impl& of(llhttp_t* p) noexcept { return *static_cast<impl*>(p->data); }

  int fail(errc e) noexcept {
    failure = e;
    return HPE_USER;
  }

  headers& current_fields() noexcept {
    if (in_trailers) return trailers;
    return mode == parser_mode::request ? request.fields : response.fields;
  }

  // Counts name and value bytes against the header-section limit.
  bool charge(std::size_t length) noexcept {
    header_bytes += length;
    return header_bytes <= limits.max_header_section;
  }

  static int on_message_begin(llhttp_t* p) {
    impl& self = of(p);
    self.request.clear();
    self.response.clear();
    self.trailers.clear();
    self.last = span::none;
    self.in_message = true;
    self.in_trailers = false;
    self.head_reported = false;
    self.chunked = false;
    self.until_close = false;
    self.content_length.reset();
    self.header_bytes = 0;
    self.body_bytes = 0;
    return 0;
  }

  static int on_url(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    if (self.request.target.size() + length > self.limits.max_target_length)
      return self.fail(errc::target_too_long);
    self.request.target.append(at, length);
    return 0;
  }

  static int on_status(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    if (!self.charge(length)) return self.fail(errc::header_section_too_large);
    self.response.reason.append(at, length);
    return 0;
  }

  static int on_header_field(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    if (!self.charge(length)) return self.fail(errc::header_section_too_large);
    header_builder builder{self.current_fields()};
    if (self.last == span::field) {
      builder.append_name({at, length});
    } else {
      if (builder.target.size() >= self.limits.max_field_count)
        return self.fail(errc::too_many_fields);
      builder.begin_field({at, length});
    }
    self.last = span::field;
    return 0;
  }

  static int on_header_value(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    if (!self.charge(length)) return self.fail(errc::header_section_too_large);
    header_builder builder{self.current_fields()};
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
    header_builder{self.current_fields()}.end_value();
    self.last = span::none;
    return 0;
  }

  static int on_headers_complete(llhttp_t* p) {
    impl& self = of(p);
    if (p->http_major != 1 || p->http_minor > 1) return self.fail(errc::unsupported_version);
    http::version v{p->http_major, p->http_minor};
    if (self.mode == parser_mode::request) {
      self.request.method = static_cast<http::method>(p->method);
      self.request.version = v;
    } else {
      self.response.status = static_cast<http::status>(p->status_code);
      self.response.version = v;
    }
    self.chunked = (p->flags & F_CHUNKED) != 0;
    if (!self.chunked && (p->flags & F_CONTENT_LENGTH) != 0) {
      self.content_length = p->content_length;
      if (p->content_length > self.limits.max_body_size) return self.fail(errc::body_too_large);
    }
    self.keep_alive = llhttp_should_keep_alive(p) != 0;
    self.in_trailers = true;
    self.last = span::none;
    if (self.mode == parser_mode::response && self.expect_head) {
      // A HEAD response has no body whatever its framing says; the head is reported when
      // the message end (which follows at once) pauses the parser.
      self.expect_head = false;
      return 1;
    }
    self.until_close = self.mode == parser_mode::response && !self.chunked &&
                       !self.content_length && llhttp_message_needs_eof(p) != 0;
    self.head_reported = true;
    self.pending = parse_event::head;
    return HPE_PAUSED;
  }

  static int on_body(llhttp_t* p, const char* at, std::size_t length) {
    impl& self = of(p);
    self.body_bytes += length;
    if (self.body_bytes > self.limits.max_body_size) return self.fail(errc::body_too_large);
    self.body = {at, length};
    self.pending = parse_event::body;
    return HPE_PAUSED;
  }

  static int on_message_complete(llhttp_t* p) {
    impl& self = of(p);
    self.keep_alive = llhttp_should_keep_alive(p) != 0;
    self.in_message = false;
    self.pending = parse_event::message_end;
    return HPE_PAUSED;
  }

  static const llhttp_settings_t& settings() noexcept {
    static const llhttp_settings_t instance = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = on_message_begin;
      s.on_url = on_url;
      s.on_status = on_status;
      s.on_header_field = on_header_field;
      s.on_header_value = on_header_value;
      s.on_header_value_complete = on_header_value_complete;
      s.on_headers_complete = on_headers_complete;
      s.on_body = on_body;
      s.on_message_complete = on_message_complete;
      return s;
    }();
    return instance;
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
        head_reported = true;
        deferred_end = true;
        return {parse_event::head, consumed};
      }
      return {pending, consumed};
    }
    if (code == HPE_PAUSED_UPGRADE) {
      upgraded = true;
      return {parse_event::upgrade, consumed};
    }
    return error_result(code, consumed);
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
  if (s.deferred_end) {
    s.deferred_end = false;
    return {parse_event::message_end, 0};
  }
  if (s.upgraded) return {parse_event::upgrade, 0};
  s.pending = parse_event::need_more;
  auto code = llhttp_execute(&s.llhttp, input.data(), input.size());
  return s.conclude(code, input.data(), input.size());
}

parser::result parser::finish() {
  impl& s = *impl_;
  if (s.failed) return {parse_event::error, 0};
  if (s.deferred_end) {
    s.deferred_end = false;
    return {parse_event::message_end, 0};
  }
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

void parser::expect_head_response(bool yes) noexcept { impl_->expect_head = yes; }

const http::request& parser::request() const noexcept { return impl_->request; }
http::request& parser::request() noexcept { return impl_->request; }
const http::response& parser::response() const noexcept { return impl_->response; }
http::response& parser::response() noexcept { return impl_->response; }
const headers& parser::trailers() const noexcept { return impl_->trailers; }
std::string_view parser::body() const noexcept { return impl_->body; }

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
