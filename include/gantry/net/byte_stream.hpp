#pragma once
/// @file
/// The seam between the HTTP codecs and the transports they run on.

#include <array>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <concepts>
#include <cstddef>
#include <system_error>

#include "gantry/core/async.hpp"

namespace gantry::net {

/// Up to two pieces written in one call: a head and a body piece, or what was queued and a
/// large piece written straight from where it lies.
using gathered_bytes = std::array<asio::const_buffer, 2>;

// clang-format 14 garbles requires-clauses: laid out by hand.
// clang-format off

/// A connected, ordered, reliable byte stream, as the HTTP/1 codecs use it: `tcp_stream`
/// (a socket), `testing::memory_stream` (in memory, for tests), and a TLS stream on the same
/// terms. Whatever is particular to a transport stays inside its stream: how "readable" is
/// decided, how a connection is ended politely, whether a pooled connection may be reused.
///
/// - `async_read_some(buffer, token)`: completes with `(error_code, bytes)` once at least one
///   byte arrived; `asio::error::eof` when the peer ended the stream.
/// - `read_some_now(buffer, ec)`: never waits; `asio::error::would_block` when nothing is
///   there yet.
/// - `async_write(gathered_bytes, token)`: completes once every byte of both pieces is
///   written, or with the error that stopped it.
/// - `write_some_now(buffer, ec)`: never waits; writes what the transport takes at once
///   (`asio::error::would_block` when it takes nothing). For layers on top of a stream (TLS)
///   that write as they encode.
/// - `async_wait_readable(token)`: completes when a read would find bytes (or the end).
/// - `shutdown_send(ec)`: tells the peer nothing more will be sent; reading goes on.
/// - `cancel()`: pending operations complete with `asio::error::operation_aborted`.
/// - `close()`: ends the stream at once; `is_open()` is false from then on.
/// - `reusable()`: for a pooled, idle connection: true when the peer has neither closed it
///   nor sent bytes nobody asked for.
/// - `remote_endpoint()`, `local_endpoint()`: the addresses of both ends, as the transport
///   underneath knows them; unspecified (port 0) when it has none.
template <class S>
concept byte_stream =
    requires(S& s, const S& cs, asio::mutable_buffer in, gathered_bytes out,
             asio::const_buffer piece, std::error_code& ec) {
      s.async_read_some(in, core::use_tuple);
      { s.read_some_now(in, ec) } -> std::same_as<std::size_t>;
      s.async_write(out, core::use_tuple);
      { s.write_some_now(piece, ec) } -> std::same_as<std::size_t>;
      s.async_wait_readable(core::use_tuple);
      s.shutdown_send(ec);
      s.cancel();
      s.close();
      { cs.is_open() } -> std::same_as<bool>;
      { s.reusable() } -> std::same_as<bool>;
      { cs.remote_endpoint() } -> std::same_as<asio::ip::tcp::endpoint>;
      { cs.local_endpoint() } -> std::same_as<asio::ip::tcp::endpoint>;
    };
// clang-format on

}  // namespace gantry::net
