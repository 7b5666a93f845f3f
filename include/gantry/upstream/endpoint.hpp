#pragma once
/// @file
/// One upstream server.

#include <asio/ip/tcp.hpp>
#include <string>

namespace gantry::upstream {

/// An upstream server: where to connect, and the name it was configured by (for logs).
struct endpoint {
  asio::ip::tcp::endpoint address;
  std::string name;
};

}  // namespace gantry::upstream
