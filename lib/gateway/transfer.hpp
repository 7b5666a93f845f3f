#pragma once
// What the codecs and the exchange driver share: how a read or write reports, how a body
// arrives piece by piece, and how the I/O errors of each side become proxy errors.

#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <tuple>

#include "../net/tls_error.hpp"
#include "gantry/gateway/proxy_error.hpp"

namespace gantry::detail {

// Reads and writes come in two halves, so that no coroutine frame of Gantry's own stands
// between an exchange and Asio's operation (a frame costs about 250 instructions, as much as
// a small write's own user-space work): the first arms the deadline and returns the
// operation, the second takes its result, settles the deadline and says how it went.
//     auto ec = sink.written(co_await sink.send());
using transfer_result = std::tuple<std::error_code, std::size_t>;
using transfer = asio::awaitable<transfer_result>;

// What the connection does after an exchange.
enum class after : std::uint8_t { keep_alive, close };

// The next step of a body as a codec parses it from what it has read, without waiting.
struct body_step {
  enum class kind : std::uint8_t {
    piece,      // `data` is the next piece; valid until the next step
    end,        // the body is complete (trailers, if any, are known)
    need_more,  // nothing more is buffered: read more
    failed,     // the body is malformed: `error` says how
  };
  kind what;
  std::string_view data{};
  std::error_code error{};
  bool last = false;  // a piece that ends the body: no data follows, `end` comes next
};

// How far reading an upstream's response head got.
enum class head_step : std::uint8_t {
  final,      // the response's head is read
  interim,    // an interim (1xx) head to pass on is read
  skipped,    // an interim head not to pass on was read
  need_more,  // read more
  failed,     // malformed, oversized, or a switch of protocols never asked for
};

inline std::error_code timed_out() noexcept { return std::make_error_code(std::errc::timed_out); }

// An I/O error on either side, as the proxy flow reports it.
inline std::error_code upstream_error(const std::error_code& ec) noexcept {
  return ec == timed_out() ? proxy_errc::upstream_timed_out : proxy_errc::upstream_failed;
}
inline std::error_code client_error(const std::error_code& ec) noexcept {
  return ec == timed_out() ? proxy_errc::client_timed_out : proxy_errc::client_gone;
}

// A non-blocking read that found nothing to read.
inline bool nothing_ready(const std::error_code& ec) noexcept {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// The peer ended the connection (over TLS, also without close_notify).
inline bool is_close(const std::error_code& ec) noexcept {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == net::tls_truncated();
}

// Body pieces up to this size are copied next to what is already queued, so a small message
// leaves in one write; bigger pieces are written straight from the read buffer.
inline constexpr std::size_t coalesce_limit = 4096;

}  // namespace gantry::detail
