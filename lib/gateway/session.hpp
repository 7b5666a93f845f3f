#pragma once
// What a worker knows of the connections it serves, whatever their stream and protocol.

#include <asio/awaitable.hpp>
#include <memory>
#include <string>

#include "gantry/core/coarse_clock.hpp"
#include "gantry/gateway/options.hpp"
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

// What a connection holds only while it works (parser, buffers, exchange state), kept by its
// worker between connections: an idle connection gives it back (see worker::take_state).
// `kind` tells the types apart without a dynamic_cast: the address of `state_kind<T>`.
class pooled_state {
 public:
  explicit pooled_state(const void* kind) noexcept : kind_{kind} {}
  virtual ~pooled_state() = default;
  pooled_state(const pooled_state&) = delete;
  pooled_state& operator=(const pooled_state&) = delete;
  const void* kind() const noexcept { return kind_; }

 private:
  const void* kind_;
};
template <class T>
inline constexpr char state_kind = 0;

// How the connections of one listening address are served: the routes of which listener
// (empty: the gateway's own), the TLS settings they arrive with (empty: plain), and their
// client-side timeouts and limits.
struct listener_binding {
  std::string name;
  std::string tls;
  client_options client;
};

// Runs a session on `client` for as long as the connection lasts; `owner` is kept alive
// for as long as the coroutine's frame exists (a host context may destroy it after the
// gateway is gone), and with it `binding`, which the worker keeps.
template <net::byte_stream Stream>
asio::awaitable<void> serve_connection(std::shared_ptr<worker> owner,
                                       const listener_binding* binding, Stream client);

}  // namespace gantry::detail
