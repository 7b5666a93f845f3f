#pragma once
/// @file
/// SO_REUSEPORT as an Asio socket option.

#include <sys/socket.h>

#include <cstddef>

namespace gantry::net {

/// Lets several sockets bind the same address and port; the kernel spreads incoming
/// connections across them. Each worker owns one acceptor bound this way, so accepting takes
/// no lock and no hand-off between threads.
///
/// ```
/// acceptor.set_option(gantry::net::reuse_port{true});
/// ```
class reuse_port {
 public:
  explicit reuse_port(bool enabled = true) noexcept : value_{enabled ? 1 : 0} {}

  bool enabled() const noexcept { return value_ != 0; }

  // The SettableSocketOption requirements of Asio.
  template <class Protocol>
  int level(const Protocol&) const noexcept {
    return SOL_SOCKET;
  }
  template <class Protocol>
  int name(const Protocol&) const noexcept {
    return SO_REUSEPORT;
  }
  template <class Protocol>
  const int* data(const Protocol&) const noexcept {
    return &value_;
  }
  template <class Protocol>
  int* data(const Protocol&) noexcept {
    return &value_;
  }
  template <class Protocol>
  std::size_t size(const Protocol&) const noexcept {
    return sizeof value_;
  }
  template <class Protocol>
  void resize(const Protocol&, std::size_t) noexcept {}

 private:
  int value_;
};

}  // namespace gantry::net
