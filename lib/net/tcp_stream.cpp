#include "gantry/net/tcp_stream.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace gantry::net {

bool tcp_stream::reusable() noexcept {
  char byte;
  const auto n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace gantry::net
