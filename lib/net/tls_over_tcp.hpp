#pragma once
// TLS over a TCP stream that someone else owns: an upstream connection keeps its socket in
// `upstream::connection::stream` and, for a cluster that speaks TLS, this layer beside it.

#include <utility>

#include "gantry/net/tcp_stream.hpp"
#include "tls_stream.hpp"

namespace gantry::net {

// A TCP stream by reference, as a byte stream.
class tcp_ref {
 public:
  explicit tcp_ref(tcp_stream& s) noexcept : s_{&s} {}
  template <class Token>
  auto async_read_some(asio::mutable_buffer b, Token&& t) {
    return s_->async_read_some(b, std::forward<Token>(t));
  }
  std::size_t read_some_now(asio::mutable_buffer b, std::error_code& ec) noexcept {
    return s_->read_some_now(b, ec);
  }
  template <class Token>
  auto async_write(gathered_bytes b, Token&& t) {
    return s_->async_write(b, std::forward<Token>(t));
  }
  std::size_t write_some_now(asio::const_buffer b, std::error_code& ec) noexcept {
    return s_->write_some_now(b, ec);
  }
  template <class Token>
  auto async_wait_readable(Token&& t) {
    return s_->async_wait_readable(std::forward<Token>(t));
  }
  void shutdown_send(std::error_code& ec) noexcept { s_->shutdown_send(ec); }
  void cancel() noexcept { s_->cancel(); }
  void close() noexcept { s_->close(); }
  bool is_open() const noexcept { return s_->is_open(); }
  bool reusable() noexcept { return s_->reusable(); }
  asio::ip::tcp::endpoint remote_endpoint() const noexcept { return s_->remote_endpoint(); }
  asio::ip::tcp::endpoint local_endpoint() const noexcept { return s_->local_endpoint(); }
  auto get_executor() noexcept { return s_->get_executor(); }

 private:
  tcp_stream* s_;
};

static_assert(byte_stream<tcp_ref>);

struct tls_over_tcp {
  tls_over_tcp(tcp_stream& tcp, std::shared_ptr<const tls_context> context,
               std::string_view server_name)
      : stream{tcp_ref{tcp}, std::move(context), server_name} {}
  tls_stream<tcp_ref> stream;

  static void destroy(tls_over_tcp* p) noexcept { delete p; }
};

}  // namespace gantry::net
