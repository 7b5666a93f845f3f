#pragma once
/// @file
/// Everything a gateway can be tuned with, and the reasons for the defaults.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gantry/http/parser.hpp"
#include "gantry/http/path_normalization.hpp"
#include "gantry/policy/metrics_registry.hpp"
#include "gantry/upstream/pool.hpp"

namespace gantry {

/// Limits and timeouts on the client (downstream) side.
struct client_options {
  /// From a request's first byte to the end of its head; 408 past it. Short, because a slow
  /// head is how slowloris ties up connections (NGINX: 60 s, HAProxy configs: often 10 s).
  std::chrono::milliseconds request_head_timeout{10'000};
  /// Longest silence while a request body is read or a response is written; past it the
  /// connection is closed (408 while reading). NGINX's client_body/send_timeout: 60 s.
  std::chrono::milliseconds body_timeout{60'000};
  /// How long an idle keep-alive connection waits for its next request (NGINX: 75 s).
  std::chrono::milliseconds keepalive_timeout{60'000};
  /// Connections one worker serves at once; further accepts wait for a free slot.
  std::size_t max_connections = 10'000;
  /// Connections the whole gateway serves at once; further clients wait, connected but
  /// unread, until one ends. 0 derives it from the descriptor limit (RLIMIT_NOFILE), as
  /// HAProxy derives maxconn: half of what is left after 64 kept for listeners, files and
  /// logs, since each client connection may hold an upstream one. Past that limit accepts
  /// and upstream connects would fail instead of waiting. `gateway::options()` shows it.
  std::size_t max_total_connections = 0;
  /// Requests served on one connection before it is closed (NGINX: 1000); 0 for no limit.
  std::uint32_t max_requests_per_connection = 10'000;
  /// Request line, header and body limits (414, 431, 413).
  http::parser_limits request_limits{};
  /// How request paths are normalised before routing; the normalised path is also what is
  /// forwarded. A path that cannot be normalised is refused with 400.
  http::path_normalization paths{};
};

/// How one listening address serves: `gateway::listen(address, options)`.
struct listener_options {
  /// The listener of `gateway_config::listeners` whose routes and policies it serves; empty
  /// for the gateway's own.
  std::string name{};
  /// The `gateway_config::tls` entry it terminates TLS with; empty for plain HTTP.
  std::string tls{};
  /// Timeouts and limits for the connections it accepts, when they differ from the
  /// gateway's (`gateway_options::client`). The connection caps stay the gateway's:
  /// `max_connections` and `max_total_connections` count every listener's connections, and
  /// are not read from here.
  std::optional<client_options> client{};
};

/// Timeouts and pooling on the upstream side.
struct upstream_options {
  /// Connecting to an upstream; 504 past it. Envoy's default: 5 s.
  std::chrono::milliseconds connect_timeout{5'000};
  /// Longest silence from an upstream while its response is awaited or read; 504 before the
  /// response head, a closed client connection after it. NGINX's proxy_read_timeout: 60 s.
  std::chrono::milliseconds response_timeout{60'000};
  /// Limits on upstream responses: a header section past them is a 502.
  http::parser_limits response_limits{};
  upstream::pool_options pool{};
};

/// Options of a `gantry::gateway`.
struct gateway_options {
  /// Worker threads when the gateway runs its own; 0 means one per hardware thread.
  unsigned workers = 0;
  client_options client{};
  upstream_options upstream{};
  /// On stop, how long in-flight exchanges may take to finish before connections are cut.
  std::chrono::milliseconds drain_timeout{30'000};
  /// Granularity of timeouts: each worker checks deadlines this often, instead of arming a
  /// timer per operation, so the request path never touches the timer queue.
  std::chrono::milliseconds timer_resolution{100};
  /// Size of each connection's read buffers (one toward the client, one toward the
  /// upstream during an exchange). Bounds the memory a streaming exchange uses.
  std::size_t buffer_size = 16 * 1024;
  /// Seeds the generators that weighted splits draw from (worker i gets seed + i); 0 seeds
  /// them at random. Tests fix it to make a split's distribution reproducible.
  std::uint64_t random_seed = 0;
  /// Where connections are counted (`policy::connection_event`: accepted connections, TLS
  /// handshakes by result), worker i into shard i; usually the registry the `metrics`
  /// policies record into, so that one `/metrics` shows both. Null: not counted.
  std::shared_ptr<policy::metrics_registry> metrics{};
};

}  // namespace gantry
