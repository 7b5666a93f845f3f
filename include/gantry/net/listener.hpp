#pragma once
/// @file
/// Listening sockets.

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>

namespace gantry::net {

/// Options of a listening socket.
struct listener_options {
  /// Bind with SO_REUSEPORT so one acceptor per worker can share the address.
  bool reuse_port = true;
  /// Length of the kernel's accept queue (NGINX uses 511 on Linux).
  int backlog = 511;
};

/// Opens, binds and starts listening on `address`. Throws `std::system_error` naming the
/// address when it cannot.
asio::ip::tcp::acceptor make_listener(asio::any_io_executor executor,
                                      const asio::ip::tcp::endpoint& address,
                                      listener_options options = {});

}  // namespace gantry::net
