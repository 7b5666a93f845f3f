#pragma once
// Small helpers the integration tests share.

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "gantry/gateway/gateway.hpp"
#include "support/deadline.hpp"
#include "support/gantryd.hpp"
#include "support/stub_upstream.hpp"
#include "support/tcp_client.hpp"

namespace gantry::testing {

using namespace std::chrono_literals;

/// Sends one request on a fresh connection and reads one response.
inline response_result fetch(std::uint16_t port, const std::string& request,
                             read_options options = {}, clock::duration limit = 10s) {
  auto d = after(limit);
  tcp_client client{port, d};
  if (!client.send(request, d)) {
    response_result failed;
    failed.closed = true;
    return failed;
  }
  return client.read_response(d, options);
}

/// `fetch` of "GET target".
inline response_result get(std::uint16_t port, std::string_view target) {
  return fetch(port, make_request("GET", target));
}

/// MiB, for messages.
inline double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

/// A `gantry::gateway` in this process, with worker threads of its own, on an ephemeral
/// loopback port: configure `gw`, then `start()`. Stopped and joined on destruction.
struct running_gateway {
  gantry::gateway gw;
  std::uint16_t port = 0;

  explicit running_gateway(gantry::gateway_options options = {.workers = 1}) : gw{options} {}
  running_gateway(const running_gateway&) = delete;
  running_gateway& operator=(const running_gateway&) = delete;
  ~running_gateway() {
    gw.stop();
    gw.wait();
  }

  void start() {
    port = gw.listen("127.0.0.1:0").port();
    gw.start();
  }
};

}  // namespace gantry::testing

namespace gantry::testing {

/// Polls `progress()` (a byte count another party advances) until it has not moved for
/// `quiet`, and returns its value then; gives up at `d`. For backpressure tests: a peer that
/// stops reading must eventually stop the writer on the far side of the proxy.
template <class Progress>
std::uint64_t wait_until_stalled(Progress progress, clock::duration quiet, deadline d) {
  std::uint64_t last = progress();
  auto last_change = clock::now();
  while (clock::now() < d) {
    std::this_thread::sleep_for(20ms);
    auto now = progress();
    if (now != last) {
      last = now;
      last_change = clock::now();
    } else if (clock::now() - last_change >= quiet) {
      break;
    }
  }
  return last;
}

}  // namespace gantry::testing

namespace gantry::testing {

/// A loopback port with a socket bound to it but not listening: connecting is refused, and
/// no other process can take the port while this lives. With a `backlog`, it listens but
/// never accepts.
class refusing_port {
 public:
  explicit refusing_port(int backlog = -1) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    if (backlog >= 0) REQUIRE(::listen(fd_, backlog) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~refusing_port() { ::close(fd_); }
  refusing_port(const refusing_port&) = delete;
  refusing_port& operator=(const refusing_port&) = delete;
  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace gantry::testing
