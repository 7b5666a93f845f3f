#pragma once
// The HTTP/1 server side of one client connection: the keep-alive loop, reading request
// heads, answering what is malformed, 100-continue, framing what goes back, and lingering
// before the close. Each request it reads is one exchange of its exchange driver, to which
// it is the downstream port (see exchange_driver.hpp). A template on the client's byte
// stream, so the TCP path makes no indirect call per read; session.cpp instantiates it for
// TCP, the test kit for in-memory streams.

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "exchange_driver.hpp"
#include "gantry/core/async.hpp"
#include "gantry/gateway/options.hpp"
#include "gantry/http/body_framing.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/response.hpp"
#include "gantry/http/status.hpp"
#include "gantry/net/byte_stream.hpp"
#include "gantry/policy/downstream.hpp"
#include "http1_body_writer.hpp"
#include "io_buffer.hpp"
#include "session.hpp"
#include "transfer.hpp"

namespace gantry::detail {

template <net::byte_stream Stream>
class http1_server;

// A stream that sets itself up with a handshake before any byte of HTTP (TLS).
template <class Stream>
concept handshaking_stream = requires(Stream& s) { s.async_handshake(core::use_tuple); };

// What a connection of `http1_server` needs only while it reads a request or carries an
// exchange: the parser, the read buffer, the working strings, the body writer, and the
// exchange driver with its upstream codec. About 2 KiB and more on the heap (header buffers):
// an idle connection gives it back to its worker, which lends it to the next connection with
// bytes to read.
template <net::byte_stream Stream>
struct http1_connection_state final : pooled_state {
  http1_connection_state(worker& owner, http1_server<Stream>& server);

  std::string out;      // bytes being assembled for the next write, toward either side
  std::string scratch;  // for building header values
  exchange_driver<http1_server<Stream>> driver;
  http::parser parser;
  io_buffer in;
  http1_body_writer body;
};

template <net::byte_stream Stream>
class http1_server final : public session_base {
 public:
  // `binding` says whose routes and which client options; it outlives the connection.
  http1_server(worker& owner, const listener_binding& binding, Stream client);
  ~http1_server() override;
  const client_options& options() const noexcept { return binding_.client; }
  http1_server(const http1_server&) = delete;
  http1_server& operator=(const http1_server&) = delete;

  // The connection's life, in turns: `serve_until_idle` serves requests until the connection
  // goes idle (true) or is to end (false); while idle, the caller waits on `wait_readable`
  // with no frame of the session's own, then calls it again; `linger` ends it. An idle
  // connection is then its socket, this object and one wait.
  asio::awaitable<bool> serve_until_idle();
  // Streams with a handshake (TLS) have it first, within the request head's timeout; false
  // when it failed (the connection is closed). Its facts join the connection's.
  // Called only for a `handshaking_stream` (its body is empty for the others, which an
  // explicit instantiation still compiles).
  asio::awaitable<bool> handshake();
  auto wait_readable() { return client_.async_wait_readable(core::use_tuple); }
  asio::awaitable<void> linger();
  // After a failed handshake: no more sending on `transport` (what is under the stream),
  // then reads and drops what the client still sends, a little for a little while, so that
  // closing does not reset the connection and lose the alert.
  template <class Transport>
  asio::awaitable<void> discard_then_close(Transport& transport);

  void enforce_deadlines(clock::time_point now) noexcept override;
  void close_if_idle() noexcept override;
  void close() noexcept override;

  // The downstream port, for the exchange driver.
  http::body_framing request_framing() const noexcept { return state_->parser.framing(); }
  bool request_complete() const noexcept { return request_complete_; }
  std::uint64_t request_bytes() const noexcept { return request_bytes_; }
  // The request body (a body pump's source).
  body_step next_piece();
  transfer read_more();
  std::error_code read_done(const transfer_result& r);
  const http::headers& trailers() const noexcept { return state_->parser.trailers(); }
  void body_done() noexcept {}
  // The response.
  asio::awaitable<std::error_code> send_interim(http::response& res);
  void queue_response_head(http::response& res, const http::body_framing& framing, bool close);
  void queue_local_head(http::response& res, std::size_t body_size, bool close, bool trailers);
  bool response_started() const noexcept { return response_started_; }
  bool retract_response_head() noexcept;
  bool closes_after() const noexcept { return close_after_; }
  // The response body (a body pump's sink).
  bool queue(std::string_view piece) { return state_->body.queue(piece); }
  bool has_queued() const noexcept { return state_->body.has_queued(); }
  void queue_end(const http::headers& trailers) { state_->body.queue_end(trailers); }
  transfer send(std::string_view piece = {}) {
    arm(options().body_timeout);
    return client_.async_write({asio::buffer(state_->out), asio::buffer(piece)}, core::use_tuple);
  }
  std::error_code written(const transfer_result& r);

 private:
  enum class phase : std::uint8_t { idle, reading_head, exchanging };

  // How far reading the next request head got.
  enum class head_read : std::uint8_t {
    ready,      // the head is parsed
    pending,    // more bytes are needed: `read_request_head` waits for them
    closed,     // the connection ends without an answer
    refused,    // the head is malformed: answer with the parser's status, then close
    timed_out,  // the head came too slowly: answer 408, then close
  };
  // Starts on the next request head with what the client has sent; no waiting.
  head_read next_request_head();
  // The head's first bytes are there: reading it begins, on its deadline.
  head_read begin_head();
  head_read parse_head();
  // Reads the rest of a head that `next_request_head` found begun but `pending`.
  asio::awaitable<head_read> read_request_head();
  // Checks the request head and says how its exchange goes; a status refuses it.
  std::optional<http::status> plan_exchange();
  // Sends "100 Continue", then reads as `read_more` does.
  transfer continue_then_read();
  // An error answer outside any exchange (malformed request): no policy sees it.
  [[gnu::cold]] asio::awaitable<void> respond_plain(http::status status);

  // Reads what the client has sent, if anything: `would_block` when nothing is there yet, and
  // then the connection holds no buffer.
  std::error_code read_ready_bytes();
  // Reads on the deadline its caller armed for a whole head.
  transfer read_client() { return client_.async_read_some(state_->in.prepare(), core::use_tuple); }
  std::error_code client_read(const transfer_result& r);
  void ensure_buffer();
  // The connection's working state: taken from the worker (or made) when bytes arrive, given
  // back when it goes idle, so an idle connection holds only its socket and this object.
  void ensure_state();
  // Between two messages, `mid_message` false: the parser is ready for the next as it is.
  void release_state(bool mid_message) noexcept;
  // Deadlines are checked by the worker's tick; arming one clears an earlier expiry.
  void arm(clock::duration timeout) noexcept {
    deadline_ = clock::now() + timeout;
    timed_out_ = false;
  }

  worker& owner_;
  const listener_binding& binding_;
  Stream client_;
  std::unique_ptr<http1_connection_state<Stream>> state_;
  // The connection's facts, which each exchange's `downstream` gets, and what they view.
  policy::downstream_facts facts_;
  std::string peer_address_;
  std::string local_address_;
  std::uint64_t request_bytes_ = 0;
  std::uint64_t response_bytes_at_head_ = 0;  // before the response head was queued
  std::uint32_t requests_served_ = 0;
  std::uint32_t served_at_last_tick_ = 0;
  http::version client_version_{};  // of the current request, before it is rewritten
  phase phase_ = phase::idle;
  bool head_request_ = false;
  bool has_body_ = false;
  bool continue_due_ = false;      // the client waits for "100 Continue" to send its body
  bool request_complete_ = false;  // the request's end was read
  bool close_after_ = false;       // the connection ends with this exchange
  bool response_started_ = false;  // a response head is queued or sent
  bool timed_out_ = false;
  clock::time_point deadline_ = clock::time_point::max();
};

}  // namespace gantry::detail
