#pragma once
// The API behind gantryd's built-in demo: a small origin server written with Gantry's own
// HTTP codec, so the demo needs nothing but the gantryd binary.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <string>

namespace gantry::demo {

/// Serves a few JSON endpoints on `address` (port 0 picks one) from `io`; returns the bound
/// endpoint. Every request gets an answer, with `X-Demo-Version: version` so a canary split
/// shows; the connection is kept alive as the client asks.
asio::ip::tcp::endpoint serve_demo_api(asio::io_context& io, const asio::ip::tcp::endpoint& address,
                                       std::string version = "v1");

}  // namespace gantry::demo
