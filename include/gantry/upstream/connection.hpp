#pragma once
/// @file
/// A connection to an upstream server, as the pool keeps it.

#include <asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>

#include "gantry/core/coarse_clock.hpp"
#include "gantry/net/tcp_stream.hpp"

namespace gantry::net {
// The library's TLS layer over a connection's stream (lib/net/tls_over_tcp.hpp).
struct tls_over_tcp;
}  // namespace gantry::net

namespace gantry::upstream {

/// A connection to one endpoint plus what the pool needs to decide whether to reuse it.
struct connection {
  using clock = core::coarse_clock;

  explicit connection(const asio::any_io_executor& executor, std::uint32_t endpoint_index)
      : stream{executor}, endpoint{endpoint_index} {}

  net::tcp_stream stream;
  /// TLS over `stream`, for a cluster that speaks it; null for plain HTTP.
  std::unique_ptr<net::tls_over_tcp, void (*)(net::tls_over_tcp*) noexcept> tls{nullptr, nullptr};
  /// Index of the endpoint within its pool.
  std::uint32_t endpoint;
  /// Exchanges completed on this connection.
  std::uint32_t exchanges = 0;
  /// When the connection was returned to the pool.
  clock::time_point idle_since{};
};

}  // namespace gantry::upstream
