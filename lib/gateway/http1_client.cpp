#include "http1_client.hpp"

#include <optional>
#include <utility>

#include "../net/tls_client_session.hpp"
#include "../net/tls_over_tcp.hpp"

#include "gantry/core/ascii.hpp"
#include "gantry/http/forwarding.hpp"
#include "gantry/http/serializer.hpp"
#include "worker.hpp"

namespace gantry::detail {
namespace {

constexpr std::string_view via_value = "1.1 gantry";

// A pooled connection the upstream has closed, or on which it sent bytes nobody asked for,
// must not carry the next request: the bytes would be taken for its response. The stream's
// reuse probe tells.
//
// The probe is a system call per reuse, so it is made only for connections idle at least
// `peek_after`: under load a connection is back in use microseconds after its last response,
// before an upstream closes idle connections (seconds) — one that closes after a response says
// so with "Connection: close" and is not pooled — and bytes that came with the response were
// seen when it was read. A request sent on a connection that was closed all the same gets
// nothing back and is retried on a fresh one when it is idempotent. (Idle time is read on the
// coarse clock: a connection idle less than a kernel tick may count as idle for one, and is
// then peeked; that costs a system call, never a wrong reuse.)
constexpr std::chrono::milliseconds peek_after{1};

}  // namespace

http1_client::http1_client(worker& owner, std::string& out, std::string& scratch)
    : owner_{owner},
      options_{owner.options().upstream},
      out_{&out},
      scratch_{&scratch},
      parser_{http::parser_mode::response, owner.options().upstream.response_limits},
      body_{out} {}

http1_client::~http1_client() {
  release(false);
  if (in_.has_storage()) owner_.give_buffer(in_.release_storage());
}

transfer http1_client::send_tls(const net::gathered_bytes& bytes) {
  return conn_->tls->stream.async_write(bytes, core::use_tuple);
}

transfer http1_client::read_tls() {
  return conn_->tls->stream.async_read_some(in_.prepare(), core::use_tuple);
}

bool http1_client::tls_drained() const noexcept { return conn_->tls->stream.drained(); }

void http1_client::ensure_buffer() {
  if (!in_.has_storage()) in_ = io_buffer{owner_.take_buffer(), owner_.options().buffer_size};
}

bool http1_client::use_idle(const target& to) {
  ensure_buffer();
  const auto now = clock::now();
  conn_ = upstream::lease{owner_.pool(), owner_.pool().take_idle(to.slot, now)};
  if (!conn_) return false;
  if (now - conn_->idle_since >= peek_after &&
      !(conn_->tls ? conn_->tls->stream.reusable() : conn_->stream.reusable())) {
    release(false);
    ensure_buffer();
    return false;
  }
  return true;
}

void http1_client::open(const target& to) {
  ensure_buffer();
  conn_ = upstream::lease{owner_.pool(), owner_.pool().make_connection(to.slot)};
}

asio::awaitable<std::error_code> http1_client::connect(const target& to) {
  arm(options_.connect_timeout);
  auto [ec] = co_await conn_->stream.async_connect(*to.address, core::use_tuple);
  deadline_ = clock::time_point::max();
  if (timed_out_) co_return proxy_errc::upstream_timed_out;
  if (!ec) conn_->stream.connected(ec);
  if (ec) co_return proxy_errc::upstream_unreachable;
  if (to.tls != nullptr) {
    try {
      conn_->tls = {new net::tls_over_tcp{conn_->stream, *to.tls, to.server_name},
                    &net::tls_over_tcp::destroy};
    } catch (const std::exception&) {  // no memory for its records, or no name to verify
      co_return proxy_errc::upstream_failed;
    }
    // The handshake is part of connecting, on the same deadline. It resumes the session of
    // the slot's last one when the upstream agrees.
    net::tls_client_session& session = owner_.upstream_session(to.slot);
    session.offer(conn_->tls->stream.native_handle(), *to.tls);
    arm(options_.connect_timeout);
    auto [handshake] = co_await conn_->tls->stream.async_handshake(core::use_tuple);
    deadline_ = clock::time_point::max();
    if (timed_out_ || handshake) session.forget();
    if (timed_out_) co_return proxy_errc::upstream_timed_out;
    if (handshake == asio::error::eof) handshake = net::tls_truncated();
    // The TLS layer's reason goes to the log (a 502, as a transport failure is).
    if (handshake)
      co_return net::is_tls_error(handshake) ? handshake
                                             : make_error_code(proxy_errc::upstream_failed);
    if (!conn_->tls->stream.resumed()) session.save(conn_->tls->stream.native_handle(), *to.tls);
  }
  co_return std::error_code{};
}

void http1_client::release(bool reusable) noexcept {
  deadline_ = clock::time_point::max();
  timed_out_ = false;
  if (reusable) {
    conn_.release_clean(clock::now());
  } else {
    // Whatever the old connection left, in the buffer or in the parser, is not the next
    // connection's.
    in_.clear();
    parser_.reset();
    conn_.reset();
  }
  // The buffer is only needed during an exchange: idle connections do not hold it.
  if (in_.has_storage() && in_.empty()) owner_.give_buffer(in_.release_storage());
}

void http1_client::enforce_deadline(clock::time_point now) noexcept {
  if (now < deadline_) return;
  deadline_ = clock::time_point::max();
  timed_out_ = true;
  if (conn_) conn_->stream.close();
}

void http1_client::close() noexcept {
  if (conn_) conn_->stream.close();
}

bool http1_client::prepare_head(http::request& req, const http::body_framing& framing,
                                http::proxy_credentials credentials,
                                const policy::downstream_facts& downstream, const target& to) {
  const std::string_view host = to.name;
  const std::string_view rewrite = to.host_rewrite;
  http::headers& fields = req.fields;
  // A coding list such as "gzip, chunked" is forwarded whole: the body is re-chunked, the
  // codings under the chunking pass through untouched.
  if (!http::prepare_for_forwarding(fields, framing, *scratch_, credentials)) return false;
  body_.begin(framing.chunked);

  // One pass: the client's Host, and every X-Forwarded-For line joined; the fields this hop
  // writes anew go, and so does Expect (the downstream codec answers it itself).
  std::string& scratch = *scratch_;
  scratch.clear();
  std::optional<std::string_view> client_host;
  fields.erase_if([&](http::field f) {
    switch (f.name.size()) {
      case 4:
        if (!client_host && core::iequals(f.name, "Host")) client_host = f.value;
        return false;
      case 6:
        return core::iequals(f.name, "Expect");
      case 15:
        if (!core::iequals(f.name, "X-Forwarded-For")) return false;
        scratch.append(f.value);
        scratch.append(", ");
        return true;
      case 16:
        return core::iequals(f.name, "X-Forwarded-Host");
      case 17:
        return core::iequals(f.name, "X-Forwarded-Proto");
      default:
        return false;
    }
  });
  if (!client_host) {
    fields.add("Host", host);
    client_host = host;
  }
  // The values are put together in scratch first: `client_host` views the fields' buffer,
  // which adding to the fields may move.
  scratch.append(downstream.peer_address);
  const std::size_t forwarded_for = scratch.size();
  scratch.append(*client_host);
  const std::string_view values{scratch};
  fields.add("X-Forwarded-For", values.substr(0, forwarded_for));
  fields.add("X-Forwarded-Proto", downstream.scheme);
  fields.add("X-Forwarded-Host", values.substr(forwarded_for));
  // The client's Host is in X-Forwarded-Host; the upstream gets the route's.
  if (!rewrite.empty()) fields.set("Host", rewrite);
  fields.add("Via", via_value);
  req.version = http::http_1_1;
  return true;
}

void http1_client::queue_head(const http::request& req) {
  out_->clear();
  http::serialize_head(req, *out_);
  body_.begin(body_.chunked());
  parser_.expect_head_response(req.method == http::method::head);
  received_ = false;
  in_body_ = false;
  closed_ = false;
  closed_early_ = false;
  interim_ = false;
}

head_step http1_client::next_head(http::proxy_credentials credentials) {
  const auto step = parser_.parse(in_.readable());
  in_.consume(step.consumed);
  if (step.event == http::parse_event::need_more) return head_step::need_more;
  if (step.event == http::parse_event::message_end && interim_) {
    interim_ = false;
    return head_step::skipped;
  }
  http::response& res = parser_.response();
  const auto status = static_cast<unsigned>(res.status);
  // A malformed or oversized head, or a switch of protocols we never asked for (Upgrade is
  // not forwarded), is the upstream's fault.
  if (step.event != http::parse_event::head || status == 101) return head_step::failed;
  if (status >= 200) {
    in_body_ = true;
    return head_step::final;
  }
  interim_ = true;
  // 100 answers Expect, which the downstream codec answered itself.
  if (status == 100) return head_step::skipped;
  if (!http::remove_hop_by_hop(res.fields, credentials))
    return head_step::skipped;  // an interim response may be dropped
  res.fields.erase("Content-Length");
  res.version = http::http_1_1;
  return head_step::interim;
}

bool http1_client::take_response(http::response& into, http::proxy_credentials credentials) {
  std::swap(into, parser_.response());  // both keep their buffers
  return http::prepare_for_forwarding(into.fields, parser_, *scratch_, credentials);
}

body_step http1_client::next_piece() {
  const auto step = closed_ ? parser_.finish() : parser_.parse(in_.readable());
  in_.consume(step.consumed);
  switch (step.event) {
    case http::parse_event::body:
      return {body_step::kind::piece, parser_.body(), {}, parser_.body_complete()};
    case http::parse_event::message_end:
      return {body_step::kind::end};
    case http::parse_event::need_more:
      // After the close, finish() found nothing in progress: cannot happen mid-body.
      if (closed_) return {body_step::kind::failed, {}, proxy_errc::upstream_failed};
      return {body_step::kind::need_more};
    default:
      return {body_step::kind::failed, {}, proxy_errc::bad_upstream_response};
  }
}

}  // namespace gantry::detail
