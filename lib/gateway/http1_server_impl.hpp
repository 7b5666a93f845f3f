#pragma once
// The definitions of `http1_server`, for the translation units that instantiate it: session.cpp
// for TCP, and the test kit's for in-memory streams.

#include <array>
#include <cstdio>
#include <exception>

#include "exchange_driver_impl.hpp"
#include "gantry/core/ascii.hpp"
#include "gantry/core/number_text.hpp"
#include "gantry/http/path_normalization.hpp"
#include "gantry/http/serializer.hpp"
#include "gantry/http/target.hpp"
#include "http1_server.hpp"
#include "worker.hpp"

namespace gantry::detail {
namespace http1_server_detail {

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view via_value = "1.1 gantry";
// After answering "Connection: close", unread request bytes are drained this long so the
// kernel does not reset the connection before the client has read the answer.
constexpr std::chrono::milliseconds linger_time{1'000};
constexpr std::chrono::milliseconds failed_handshake_linger_time{250};

inline void report_policy_failure(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "gantry: an exchange failed with an exception: %s\n", ex.what());
  } catch (...) {
    std::fputs("gantry: an exchange failed with an unknown exception\n", stderr);
  }
}

inline http::status status_of(const http::parser& parser) noexcept {
  return http::status_for(static_cast<http::errc>(parser.error().value()));
}

}  // namespace http1_server_detail

template <net::byte_stream Stream>
http1_connection_state<Stream>::http1_connection_state(worker& owner, http1_server<Stream>& server)
    : pooled_state{&state_kind<http1_connection_state>},
      driver{owner, server, out, scratch},
      parser{http::parser_mode::request, server.options().request_limits},
      body{out} {}

template <net::byte_stream Stream>
http1_server<Stream>::http1_server(worker& owner, const listener_binding& binding, Stream client)
    : owner_{owner}, binding_{binding}, client_{std::move(client)} {
  // The connection's facts, for every exchange on it: X-Forwarded-For and -Proto, policies
  // and the log read them.
  if (const auto peer = client_.remote_endpoint(); peer.port() != 0) {
    peer_address_ = peer.address().to_string();
    facts_.peer_address = peer_address_;
    facts_.peer_port = peer.port();
  }
  if (const auto local = client_.local_endpoint(); local.port() != 0) {
    local_address_ = local.address().to_string();
    facts_.local_address = local_address_;
    facts_.local_port = local.port();
  }
  owner_.attach(*this);
}

template <net::byte_stream Stream>
void http1_server<Stream>::ensure_state() {
  if (state_) return;
  state_ = owner_.take_state<http1_connection_state<Stream>>();
  if (state_) {
    state_->driver.bind(*this);
    state_->parser.set_limits(options().request_limits);  // it may come from another listener
  } else {
    state_ = std::make_unique<http1_connection_state<Stream>>(owner_, *this);
  }
  state_->driver.serve_listener(binding_.name);
  state_->driver.exchange().downstream = facts_;
}

template <net::byte_stream Stream>
void http1_server<Stream>::release_state(bool mid_message) noexcept {
  if (!state_) return;
  if (state_->in.has_storage()) owner_.give_buffer(state_->in.release_storage());
  // Only a clean state goes back: no upstream connection lent, no message half parsed.
  if (state_->driver.upstream_lent()) {
    state_.reset();
    return;
  }
  if (mid_message) state_->parser.reset();
  owner_.give_state(std::move(state_));
}

template <net::byte_stream Stream>
asio::awaitable<void> serve_connection(std::shared_ptr<worker> owner,
                                       const listener_binding* binding, Stream client) {
  http1_server<Stream> s{*owner, *binding, std::move(client)};
  if constexpr (handshaking_stream<Stream>)
    if (!co_await s.handshake()) co_return;
  while (co_await s.serve_until_idle()) {
    // Idle: nothing but this frame and the wait (a deadline or stop closes the socket).
    const auto [ec] = co_await s.wait_readable();
    if (ec) break;
  }
  co_await s.linger();
}

template <net::byte_stream Stream>
asio::awaitable<bool> http1_server<Stream>::handshake() {
  if constexpr (handshaking_stream<Stream>) {
    arm(options().request_head_timeout);  // an idle connection: past it, the tick closes it
    const auto [ec] = co_await client_.async_handshake(core::use_tuple);
    deadline_ = clock::time_point::max();
    using policy::connection_event;
    if (ec) {
      // A stop closing it is no failure of the client's.
      if (timed_out_ || !owner_.draining())
        owner_.count(timed_out_ ? connection_event::tls_timed_out : connection_event::tls_failed);
      // The alert is out. Unless the client is gone, what it sent meanwhile (the rest of
      // its flight) is read before closing: a close with unread bytes would reset the
      // connection and lose the alert.
      if (timed_out_ || ec == asio::error::eof)  // before its end, a close is an EOF
        client_.close();
      else
        co_await discard_then_close(client_.lower());
      co_return false;
    }
    owner_.count(client_.resumed() ? connection_event::tls_resumed
                                   : connection_event::tls_full_handshake);
    facts_.scheme = "https";
    facts_.tls = &client_.facts();
  }
  co_return true;
}

template <net::byte_stream Stream>
http1_server<Stream>::~http1_server() {
  release_state(true);
  owner_.detach(*this);
}

template <net::byte_stream Stream>
asio::awaitable<bool> http1_server<Stream>::serve_until_idle() {
  using http1_server_detail::status_of;
  for (;;) {
    // Under load the next request is usually there whole: then no coroutine waits for it.
    head_read head = next_request_head();
    if (head == head_read::pending) {
      if (phase_ == phase::idle) co_return true;  // nothing of a request yet: the caller waits
      head = co_await read_request_head();
    }
    if (head != head_read::ready) {
      if (head == head_read::refused) co_await respond_plain(status_of(state_->parser));
      if (head == head_read::timed_out) co_await respond_plain(http::status::request_timeout);
      break;
    }
    ++requests_served_;
    if (const auto refusal = plan_exchange()) {
      co_await respond_plain(*refusal);
      break;
    }
    // Each exchange runs here rather than in a coroutine of its own: a coroutine frame per
    // request costs about 250 instructions, more than most of the steps it would hold.
    state_->driver.begin(state_->parser.request());
    after next = after::close;
    std::exception_ptr failure;
    try {
      next = co_await state_->driver.run();
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      // A policy threw (they should answer with a status instead): the client gets a 500 if
      // nothing of the response went out yet, and the log phase still runs.
      http1_server_detail::report_policy_failure(failure);
      co_await state_->driver.fail(http::status::internal_server_error);
      next = after::close;
    }
    state_->driver.end();
    if (next == after::close) break;
  }
  co_return false;
}

// Half-closes, then drains what the client still sends until it closes too (bounded).
template <net::byte_stream Stream>
asio::awaitable<void> http1_server<Stream>::linger() {
  std::error_code ec;
  client_.shutdown_send(ec);
  if (!ec && !timed_out_) {
    phase_ = phase::idle;
    arm(http1_server_detail::linger_time);
    // Into the pooled buffer: a buffer in this frame would be held by every idle connection.
    ensure_state();
    ensure_buffer();
    for (std::size_t drained = 0; drained < 64 * 1024;) {
      state_->in.clear();
      auto [read_ec, n] = co_await client_.async_read_some(state_->in.prepare(), core::use_tuple);
      if (read_ec) break;
      drained += n;
    }
  }
  client_.close();
}

template <net::byte_stream Stream>
template <class Transport>
asio::awaitable<void> http1_server<Stream>::discard_then_close(Transport& transport) {
  std::error_code ec;
  transport.shutdown_send(ec);
  if (!ec) {
    // Briefly, and into a small buffer of this frame only: no pooled state for a client
    // that failed its handshake (a scanner, plain HTTP on a TLS port).
    arm(http1_server_detail::failed_handshake_linger_time);
    std::array<char, 1024> discard;
    for (std::size_t drained = 0; drained < 16 * 1024;) {
      auto [read_ec, n] =
          co_await transport.async_read_some(asio::buffer(discard), core::use_tuple);
      if (read_ec) break;
      drained += n;
    }
  }
  client_.close();
}

template <net::byte_stream Stream>
typename http1_server<Stream>::head_read http1_server<Stream>::next_request_head() {
  response_started_ = false;
  if (!state_ || state_->in.empty()) {
    if (owner_.draining()) return head_read::closed;
    phase_ = phase::idle;
    arm(options().keepalive_timeout);
    const auto ec = read_ready_bytes();
    if (ec == asio::error::would_block) return head_read::pending;
    if (ec) return head_read::closed;
  }
  return begin_head();
}

template <net::byte_stream Stream>
typename http1_server<Stream>::head_read http1_server<Stream>::begin_head() {
  phase_ = phase::reading_head;
  arm(options().request_head_timeout);
  ensure_buffer();
  request_bytes_ = 0;
  return parse_head();
}

template <net::byte_stream Stream>
typename http1_server<Stream>::head_read http1_server<Stream>::parse_head() {
  auto step = state_->parser.parse(state_->in.readable());
  state_->in.consume(step.consumed);
  request_bytes_ += step.consumed;
  switch (step.event) {
    case http::parse_event::head:
      phase_ = phase::exchanging;
      deadline_ = clock::time_point::max();
      return head_read::ready;
    case http::parse_event::need_more:
      return head_read::pending;
    case http::parse_event::error:
      return head_read::refused;
    default:  // upgrade: the previous request asked to switch protocols; we do not.
      return head_read::closed;
  }
}

template <net::byte_stream Stream>
asio::awaitable<typename http1_server<Stream>::head_read>
http1_server<Stream>::read_request_head() {
  for (;;) {
    if (client_read(co_await read_client()))
      co_return timed_out_ ? head_read::timed_out : head_read::closed;
    const head_read head = parse_head();
    if (head != head_read::pending) co_return head;
  }
}

template <net::byte_stream Stream>
std::optional<http::status> http1_server<Stream>::plan_exchange() {
  http::request& req = state_->parser.request();
  client_version_ = req.version;
  head_request_ = req.method == http::method::head;
  request_complete_ = false;
  continue_due_ = false;

  if (req.method == http::method::connect) return http::status::method_not_allowed;
  // One Host, always in HTTP/1.1 (RFC 9112 3.2): two would let routing and upstream disagree.
  if (auto hosts = req.fields.count("Host");
      hosts > 1 || (hosts == 0 && req.version == http::http_1_1))
    return http::status::bad_request;
  // A Host that is no host and port, or a target neither origin- nor absolute-form, would let
  // routing and the upstream read the request differently. An absolute-form target goes on
  // in origin-form, its authority as Host (RFC 9112 3.2.2).
  const auto host = req.fields.get("Host");
  if ((host && !http::is_valid_host(*host)) || !http::to_origin_form(req) ||
      // Routes and their policies see one spelling of each path, and so does the upstream.
      http::normalize_path(req.target, options().paths) != http::path_error::none)
    return http::status::bad_request;
  has_body_ = state_->parser.chunked() || state_->parser.content_length().value_or(0) > 0;
  close_after_ = !state_->parser.keep_alive() || owner_.draining() ||
                 (options().max_requests_per_connection != 0 &&
                  requests_served_ >= options().max_requests_per_connection);
  // An upgrade is not forwarded (Upgrade is hop-by-hop); what follows its head is another
  // protocol, so the connection ends with this exchange.
  for (http::field f : req.fields)
    if (core::iequals(f.name, "Connection") && core::list_contains(f.value, "upgrade"))
      close_after_ = true;
  if (auto expect = req.fields.get("Expect")) {
    if (!core::iequals(core::trim_ows(*expect), "100-continue"))
      return http::status::expectation_failed;
    // Answering "100 Continue" ourselves (as Envoy does by default) keeps the client from
    // waiting on an upstream that may never send one; Expect is not forwarded.
    continue_due_ = has_body_ && req.version == http::http_1_1;
  }
  return std::nullopt;
}

template <net::byte_stream Stream>
body_step http1_server<Stream>::next_piece() {
  auto step = state_->parser.parse(state_->in.readable());
  state_->in.consume(step.consumed);
  request_bytes_ += step.consumed;
  switch (step.event) {
    case http::parse_event::body:
      return {body_step::kind::piece, state_->parser.body(), {}, state_->parser.body_complete()};
    case http::parse_event::message_end:
      request_complete_ = true;
      return {body_step::kind::end};
    case http::parse_event::need_more:
      return {body_step::kind::need_more};
    default:
      return {body_step::kind::failed, {}, state_->parser.error()};
  }
}

template <net::byte_stream Stream>
transfer http1_server<Stream>::read_more() {
  if (continue_due_) return continue_then_read();
  arm(options().body_timeout);
  return client_.async_read_some(state_->in.prepare(), core::use_tuple);
}

template <net::byte_stream Stream>
transfer http1_server<Stream>::continue_then_read() {
  continue_due_ = false;
  arm(options().body_timeout);
  const auto [ec, n] = co_await client_.async_write(
      {asio::buffer(http1_server_detail::continue_response), asio::const_buffer{}},
      core::use_tuple);
  state_->driver.exchange().response_bytes += n;
  if (ec) co_return transfer_result{ec, 0};
  arm(options().body_timeout);
  co_return co_await client_.async_read_some(state_->in.prepare(), core::use_tuple);
}

template <net::byte_stream Stream>
std::error_code http1_server<Stream>::read_done(const transfer_result& r) {
  deadline_ = clock::time_point::max();
  const auto& [ec, n] = r;
  if (!ec) {
    state_->in.commit(n);
    return {};
  }
  return client_error(timed_out_ ? timed_out() : ec);
}

template <net::byte_stream Stream>
std::error_code http1_server<Stream>::written(const transfer_result& r) {
  deadline_ = clock::time_point::max();
  state_->body.wrote();
  const auto& [ec, n] = r;
  state_->driver.exchange().response_bytes += n;
  if (!ec) return {};
  return client_error(timed_out_ ? timed_out() : ec);
}

template <net::byte_stream Stream>
asio::awaitable<std::error_code> http1_server<Stream>::send_interim(http::response& res) {
  // HTTP/1.0 clients must not see interim responses (RFC 9110 15.2).
  if (client_version_ == http::http_1_0) co_return std::error_code{};
  state_->out.clear();
  http::serialize_head(res, state_->out);
  state_->body.begin(false);
  co_return written(co_await send());
}

template <net::byte_stream Stream>
void http1_server<Stream>::queue_response_head(http::response& res,
                                               const http::body_framing& framing, bool close) {
  close_after_ = close_after_ || close;
  const bool client_1_0 = client_version_ == http::http_1_0;
  const bool bodyless = head_request_ || http::is_bodyless(res.status);
  bool chunked = false;
  if (bodyless) {
    // Content-Length of a HEAD or 304 response describes the resource: it goes as it came.
    res.fields.erase("Transfer-Encoding");
  } else if (!framing.content_length) {
    res.fields.erase("Content-Length");
    // A body of unknown length: an HTTP/1.0 client learns where it ends from the close; an
    // HTTP/1.1 client gets it chunked (with the codings it came with, if it came chunked).
    if (client_1_0) {
      res.fields.erase("Transfer-Encoding");
      close_after_ = true;
    } else {
      if (!framing.chunked) res.fields.add("Transfer-Encoding", "chunked");
      chunked = true;
    }
  }
  res.fields.add("Via", http1_server_detail::via_value);
  if (close_after_) {
    res.fields.add("Connection", "close");
  } else if (client_1_0) {
    res.fields.add("Connection", "keep-alive");
  }
  res.version = http::http_1_1;
  state_->out.clear();
  http::serialize_head(res, state_->out);
  state_->body.begin(chunked, bodyless);
  response_started_ = true;
  response_bytes_at_head_ = state_->driver.exchange().response_bytes;
}

template <net::byte_stream Stream>
void http1_server<Stream>::queue_local_head(http::response& res, std::size_t body_size, bool close,
                                            bool trailers) {
  close_after_ = close_after_ || close || (has_body_ && !request_complete_);
  if (!close_after_ && !request_complete_) {
    // The request was answered before its end was parsed; without a body the end is
    // already here, and the connection can carry the next request.
    auto step = state_->parser.parse(state_->in.readable());
    state_->in.consume(step.consumed);
    request_bytes_ += step.consumed;
    if (step.event == http::parse_event::message_end)
      request_complete_ = true;
    else
      close_after_ = true;
  }
  res.version = http::http_1_1;
  res.fields.erase("Transfer-Encoding");
  res.fields.erase("Content-Length");
  const bool bodyless = http::is_bodyless(res.status);
  // Trailers need chunked framing, which an HTTP/1.0 client cannot read: it gets none.
  const bool chunked = trailers && !bodyless && client_version_ != http::http_1_0;
  if (chunked) {
    res.fields.add("Transfer-Encoding", "chunked");
  } else if (!bodyless) {
    core::number_digits digits;
    res.fields.add("Content-Length", core::number_text(body_size, digits));
  }
  if (close_after_) {
    res.fields.add("Connection", "close");
  } else if (client_version_ == http::http_1_0) {
    res.fields.add("Connection", "keep-alive");
  }
  state_->out.clear();
  http::serialize_head(res, state_->out);
  state_->body.begin(chunked, head_request_ || bodyless);
  response_started_ = true;
  response_bytes_at_head_ = state_->driver.exchange().response_bytes;
}

template <net::byte_stream Stream>
bool http1_server<Stream>::retract_response_head() noexcept {
  if (state_->driver.exchange().response_bytes != response_bytes_at_head_) return false;
  state_->out.clear();
  response_started_ = false;
  return true;
}

template <net::byte_stream Stream>
asio::awaitable<void> http1_server<Stream>::respond_plain(http::status status) {
  // Only when nothing of a response has gone out: otherwise the connection is just closed.
  if (response_started_) co_return;
  http::response res{status};
  res.fields.add("Content-Type", "text/plain; charset=utf-8");
  res.fields.add("Connection", "close");
  std::string body;
  body.append(std::to_string(static_cast<unsigned>(status)));
  body.push_back(' ');
  body.append(http::reason_phrase(status));
  body.push_back('\n');
  state_->out.clear();
  http::serialize_response(std::move(res), body, state_->out);
  if (phase_ == phase::exchanging && head_request_)
    state_->out.resize(state_->out.size() - body.size());
  response_started_ = true;
  state_->body.begin(false);
  written(co_await send());
}

template <net::byte_stream Stream>
std::error_code http1_server<Stream>::client_read(const transfer_result& r) {
  const auto& [ec, n] = r;
  if (!ec) {
    state_->in.commit(n);
    return {};
  }
  return timed_out_ ? timed_out() : ec;
}

template <net::byte_stream Stream>
std::error_code http1_server<Stream>::read_ready_bytes() {
  // Between requests a connection holds no buffer and no state, only its socket and this
  // object (NGINX frees its buffers between requests too): 10 000 idle clients cost
  // megabytes, not 16 KiB each. A read is tried at once, as asio would; only when nothing is
  // there do the buffer and the state go back to the worker while the socket is watched.
  ensure_state();
  ensure_buffer();
  std::error_code ec;
  const std::size_t n = client_.read_some_now(state_->in.prepare(), ec);
  if (!ec) {
    state_->in.commit(n);
  } else if (nothing_ready(ec)) {
    release_state(false);
    return asio::error::would_block;
  }
  return ec;
}

template <net::byte_stream Stream>
void http1_server<Stream>::ensure_buffer() {
  if (!state_->in.has_storage())
    state_->in = io_buffer{owner_.take_buffer(), owner_.options().buffer_size};
}

template <net::byte_stream Stream>
void http1_server<Stream>::enforce_deadlines(clock::time_point now) noexcept {
  // A connection idle since the last tick gives back what its stream can spare.
  if constexpr (requires { client_.shrink(); }) {
    if (phase_ == phase::idle && !state_ && requests_served_ == served_at_last_tick_)
      client_.shrink();
    served_at_last_tick_ = requests_served_;
  }
  if (now >= deadline_) {
    deadline_ = clock::time_point::max();
    timed_out_ = true;
    // An idle connection just ends; otherwise the waiting coroutine wakes to answer 408 or
    // to give up on a client that stopped reading.
    if (phase_ == phase::idle)
      client_.close();
    else
      client_.cancel();
  }
  if (state_) state_->driver.enforce_deadlines(now);
}

template <net::byte_stream Stream>
void http1_server<Stream>::close_if_idle() noexcept {
  if (phase_ == phase::idle) close();
}

template <net::byte_stream Stream>
void http1_server<Stream>::close() noexcept {
  client_.close();
  if (state_) state_->driver.close();
}

}  // namespace gantry::detail
