#pragma once
// One HTTP/1 exchange over a plain socket, as bytes, for tests of what the gateway writes.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <string>
#include <string_view>
#include <system_error>

namespace gantry::test {

// Sends `request` (which should carry Connection: close) and returns everything the gateway
// sent back, up to its close.
inline std::string exchange_raw(asio::ip::tcp::endpoint gateway, std::string_view request) {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  socket.connect(gateway);
  asio::write(socket, asio::buffer(request));
  std::string received;
  char buffer[4096];
  std::error_code ec;
  while (!ec) received.append(buffer, socket.read_some(asio::buffer(buffer), ec));
  return received;
}

}  // namespace gantry::test
