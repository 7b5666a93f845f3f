#pragma once
/// @file
/// A TCP connection as a byte stream.

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <cstddef>
#include <system_error>
#include <utility>

#include "gantry/net/byte_stream.hpp"

namespace gantry::net {

/// A connected TCP socket as a `byte_stream`. Every call is the socket's own, inlined: the
/// request path pays no indirection for the seam.
class tcp_stream {
 public:
  using socket_type = asio::ip::tcp::socket;

  /// An accepted or connected socket. It is made non-blocking, so `read_some_now` never waits.
  explicit tcp_stream(socket_type socket) noexcept : socket_{std::move(socket)} {
    std::error_code ignored;
    if (socket_.is_open()) socket_.non_blocking(true, ignored);
  }
  /// A stream to connect with `async_connect`.
  explicit tcp_stream(const asio::any_io_executor& executor) : socket_{executor} {}

  /// Connects to `address` and turns Nagle's algorithm off: a proxy writes whole heads and
  /// body pieces, and must not hold the last small one back. Completes with `(error_code)`.
  template <class Token>
  auto async_connect(const asio::ip::tcp::endpoint& address, Token&& token) {
    return socket_.async_connect(address, std::forward<Token>(token));
  }
  /// Settles a connect that completed without error: Nagle off, non-blocking.
  void connected(std::error_code& ec) noexcept {
    socket_.set_option(asio::ip::tcp::no_delay{true}, ec);
    if (!ec) socket_.non_blocking(true, ec);
  }

  template <class Token>
  auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
    return socket_.async_read_some(buffer, std::forward<Token>(token));
  }
  std::size_t read_some_now(asio::mutable_buffer buffer, std::error_code& ec) noexcept {
    const std::size_t n = socket_.read_some(buffer, ec);
    if (ec == asio::error::try_again) ec = asio::error::would_block;
    return n;
  }
  template <class Token>
  auto async_write(gathered_bytes bytes, Token&& token) {
    return asio::async_write(socket_, bytes, std::forward<Token>(token));
  }
  std::size_t write_some_now(asio::const_buffer buffer, std::error_code& ec) noexcept {
    const std::size_t n = socket_.write_some(buffer, ec);
    if (ec == asio::error::try_again) ec = asio::error::would_block;
    return n;
  }
  template <class Token>
  auto async_wait_readable(Token&& token) {
    return socket_.async_wait(asio::socket_base::wait_read, std::forward<Token>(token));
  }

  void shutdown_send(std::error_code& ec) noexcept {
    socket_.shutdown(socket_type::shutdown_send, ec);
  }
  void cancel() noexcept {
    std::error_code ignored;
    socket_.cancel(ignored);
  }
  void close() noexcept {
    std::error_code ignored;
    socket_.close(ignored);
  }
  bool is_open() const noexcept { return socket_.is_open(); }

  /// One non-blocking peek: an idle connection is reusable when nothing, not even the end of
  /// the stream, is waiting to be read.
  bool reusable() noexcept;

  /// The addresses of both ends; unspecified ones when the socket is not connected.
  asio::ip::tcp::endpoint remote_endpoint() const noexcept {
    std::error_code ignored;
    return socket_.remote_endpoint(ignored);
  }
  asio::ip::tcp::endpoint local_endpoint() const noexcept {
    std::error_code ignored;
    return socket_.local_endpoint(ignored);
  }

  socket_type& socket() noexcept { return socket_; }
  auto get_executor() noexcept { return socket_.get_executor(); }

 private:
  socket_type socket_;
};

static_assert(byte_stream<tcp_stream>);

}  // namespace gantry::net
