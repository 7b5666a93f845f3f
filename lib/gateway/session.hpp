#pragma once
// What a worker knows of the connections it serves, whatever their stream and protocol.

#include <asio/awaitable.hpp>
#include <memory>

#include "gantry/core/coarse_clock.hpp"
#include "gantry/net/byte_stream.hpp"

namespace gantry::detail {

class worker;

// Each connection's face toward its worker: the worker's tick enforces deadlines and stop
// closes connections. Virtual, as these run per tick, not per read.
class session_base {
 public:
  using clock = core::coarse_clock;

  virtual ~session_base() = default;
  virtual void enforce_deadlines(clock::time_point now) noexcept = 0;
  virtual void close_if_idle() noexcept = 0;
  virtual void close() noexcept = 0;

  session_base* prev = nullptr;  // the worker's intrusive list
  session_base* next = nullptr;
};

// Runs a session on `client` for as long as the connection lasts; `owner` is kept alive
// for as long as the coroutine's frame exists (a host context may destroy it after the
// gateway is gone).
template <net::byte_stream Stream>
asio::awaitable<void> serve_connection(std::shared_ptr<worker> owner, Stream client);

}  // namespace gantry::detail
