#pragma once
// The HTTP/1 client side of an exchange: one upstream connection lent from the worker's
// pool, the request head framed for it, the request body sent and the response read back.
// It is the exchange driver's upstream port; the body pump reads the response from it and
// writes the request to it.

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "gantry/core/async.hpp"
#include "gantry/core/coarse_clock.hpp"
#include "gantry/gateway/options.hpp"
#include "gantry/http/body_framing.hpp"
#include "gantry/http/hop_by_hop.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/request.hpp"
#include "gantry/http/response.hpp"
#include "gantry/net/byte_stream.hpp"
#include "gantry/policy/downstream.hpp"
#include "gantry/upstream/lease.hpp"
#include "gantry/upstream/pool.hpp"
#include "http1_body_writer.hpp"
#include "io_buffer.hpp"
#include "transfer.hpp"

namespace gantry::net {
class tls_context;
}

namespace gantry::detail {

class worker;

class http1_client {
 public:
  using clock = core::coarse_clock;

  // `out` and `scratch` are the connection's, shared with its downstream codec: an exchange
  // sends its request whole before its response begins.
  http1_client(worker& owner, std::string& out, std::string& scratch);
  ~http1_client();
  http1_client(const http1_client&) = delete;
  http1_client& operator=(const http1_client&) = delete;

  // Where an exchange goes: the endpoint's pool slot and address, its name (the Host of a
  // request that has none), the route's Host rewrite, if any, and for a cluster that speaks
  // TLS, its context and the name the endpoint's certificate must carry.
  struct target {
    std::uint32_t slot = 0;
    const asio::ip::tcp::endpoint* address = nullptr;
    std::string_view name{};
    std::string_view host_rewrite{};
    const std::shared_ptr<const net::tls_context>* tls = nullptr;
    std::string_view server_name{};
  };

  // The connection. `use_idle` lends a pooled connection for the target's endpoint when one
  // is there and still usable; otherwise `open` makes a new one, and `connect` connects it.
  bool use_idle(const target& to);
  void open(const target& to);
  asio::awaitable<std::error_code> connect(const target& to);
  bool lent() const noexcept { return static_cast<bool>(conn_); }
  // Returns the connection to the pool when `reusable`, closes it otherwise.
  void release(bool reusable) noexcept;

  // No wait on the upstream goes past `deadline` (a route's timeout for the whole exchange).
  void bound_by(clock::time_point deadline) noexcept { exchange_deadline_ = deadline; }
  void enforce_deadline(clock::time_point now) noexcept;
  void close() noexcept;

  // The request head, with the fields this hop writes: hop-by-hop fields gone, the framing
  // fields rebuilt from `framing` (how the body will be sent), X-Forwarded-For, -Proto and
  // -Host from `downstream`, Via, and the target's name as Host when the request has none
  // (its Host rewrite when it has one). False when the head cannot be forwarded.
  bool prepare_head(http::request& req, const http::body_framing& framing,
                    http::proxy_credentials credentials, const policy::downstream_facts& downstream,
                    const target& to);
  // Queues the head as `prepare_head` left it (again, for a second try), and readies the
  // response parser for the answer to `req`.
  void queue_head(const http::request& req);

  // The request body (a body pump's sink).
  bool queue(std::string_view piece) { return body_.queue(piece); }
  bool has_queued() const noexcept { return body_.has_queued(); }
  void queue_end(const http::headers& trailers) { body_.queue_end(trailers); }
  transfer send(std::string_view piece = {}) {
    arm(options_.response_timeout);
    const net::gathered_bytes bytes{asio::buffer(*out_), asio::buffer(piece)};
    if (conn_->tls) [[unlikely]]
      return send_tls(bytes);
    return conn_->stream.async_write(bytes, core::use_tuple);
  }
  std::error_code written(const transfer_result& r) {
    // The upstream is not on the clock while the gateway waits for the client's next piece.
    deadline_ = clock::time_point::max();
    body_.wrote();
    const auto& [ec, n] = r;
    if (!ec) return {};
    return upstream_error(timed_out_ ? timed_out() : ec);
  }

  // The response head, after any interim responses; `response()` is the head read.
  head_step next_head(http::proxy_credentials credentials);
  http::response& response() noexcept { return parser_.response(); }
  // The final head's framing, once `take_response` prepared it.
  http::body_framing response_framing() const noexcept { return parser_.framing(); }
  // Moves the final head into `into` with hop-by-hop fields gone and its framing settled;
  // false when it cannot be forwarded.
  bool take_response(http::response& into, http::proxy_credentials credentials);
  // The read failed because a reused connection was closed before anything came back: the
  // request may be sent again on a fresh one.
  bool closed_before_response() const noexcept { return closed_early_; }

  // Reading (a body pump's source, for the response body).
  transfer read_more() {
    arm(options_.response_timeout);
    if (conn_->tls) [[unlikely]]
      return read_tls();
    return conn_->stream.async_read_some(in_.prepare(), core::use_tuple);
  }
  std::error_code read_done(const transfer_result& r) {
    // Time spent writing to a slow client is not the upstream's silence.
    deadline_ = clock::time_point::max();
    const auto& [ec, n] = r;
    if (!ec) {
      in_.commit(n);
      received_ = true;
      return {};
    }
    if (timed_out_) return proxy_errc::upstream_timed_out;
    if (in_body_ && ec == asio::error::eof) {  // a body delimited by the close
      closed_ = true;
      return {};
    }
    closed_early_ = !received_ && is_close(ec);
    return proxy_errc::upstream_failed;
  }
  body_step next_piece();
  const http::headers& trailers() const noexcept { return parser_.trailers(); }
  // The response ended whole: the connection goes back to the pool if nothing forbids it.
  void body_done() noexcept {
    // Over TLS, records past the response may wait inside the TLS layer too.
    release(!closed_ && parser_.keep_alive() && !parser_.body_until_close() && in_.empty() &&
            (!conn_ || !conn_->tls || tls_drained()));
  }

 private:
  void arm(clock::duration timeout) noexcept {
    deadline_ = std::min(clock::now() + timeout, exchange_deadline_);
    timed_out_ = false;
  }
  void ensure_buffer();
  // The TLS halves of `send` and `read_more`, out of line: the plain path's callers are
  // compiled without TLS's code.
  transfer send_tls(const net::gathered_bytes& bytes);
  transfer read_tls();
  bool tls_drained() const noexcept;

  worker& owner_;
  const upstream_options& options_;
  std::string* out_;
  std::string* scratch_;
  // Released to the pool only when the response ended cleanly; closed on any other way out,
  // at the exchange's end at the latest.
  upstream::lease conn_;
  http::parser parser_;
  io_buffer in_;
  http1_body_writer body_;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point exchange_deadline_ = clock::time_point::max();
  bool timed_out_ = false;
  bool received_ = false;      // bytes came back for this request
  bool in_body_ = false;       // the final head was read
  bool closed_ = false;        // the upstream ended the connection after the head
  bool closed_early_ = false;  // see `closed_before_response`
  bool interim_ = false;       // the head read last was a 1xx
};

}  // namespace gantry::detail
