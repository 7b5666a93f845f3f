#pragma once
/// @file
/// An in-memory byte stream for tests: bytes in any split, failures on the n-th operation.

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "gantry/net/byte_stream.hpp"

namespace gantry::testing {

/// One end of an in-memory connection, a `net::byte_stream` like `net::tcp_stream`, so code
/// written against the seam runs in a unit test without sockets (Beast's `test::stream` is
/// the model).
///
/// Its peer is either the other end of a `make_pair`, or the test itself: `feed` puts bytes
/// where this end reads them, `feed_end` ends them, and `written` shows what this end wrote.
/// `set_read_limit(1)` delivers what was fed one byte per read, to drive a reader through every
/// split; `set_write_now_limit` makes writes without waiting take only part of what they
/// are given; `fail_from(n, ec)` makes the n-th operation from now (read, write or wait) and every
/// one after it fail with `ec`, to drive every error path.
///
/// ```
/// asio::io_context io;
/// gantry::testing::memory_stream s{io.get_executor()};
/// s.feed("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
/// s.set_read_limit(1);
/// // ... run the code under test on `s` ...
/// CHECK(s.written().starts_with("HTTP/1.1 200 "));
/// ```
///
/// Operations complete through the executor, never inside the call that starts them.
/// Single-threaded, like the io_context that runs it. Copies are handles to the same end, so
/// a test keeps one after handing the stream to the code under test.
class memory_stream {
 public:
  /// An end whose peer is the test.
  explicit memory_stream(const asio::any_io_executor& executor);
  /// Two connected ends: what one writes, the other reads.
  static std::pair<memory_stream, memory_stream> make_pair(const asio::any_io_executor& executor);

  /// Bytes for this end to read, after those fed before.
  void feed(std::string_view bytes);
  /// The peer ends the stream: once what was fed is read, reads complete with `eof`.
  void feed_end();
  /// Everything this end wrote so far (with a peer: also what the peer has not read yet).
  std::string_view written() const noexcept;
  /// Each read delivers at most `bytes` (at least 1).
  void set_read_limit(std::size_t bytes) noexcept;
  /// `write_some_now` takes at most `bytes` per call (0: none, `would_block`), as a full
  /// socket buffer would: what it leaves must go by `async_write`.
  void set_write_now_limit(std::size_t bytes) noexcept;
  /// The `n`-th operation from now (1 is the next one) and every later one fail with `ec`;
  /// 0 plans no failure.
  void fail_from(std::size_t n, std::error_code ec) noexcept;
  /// True once `shutdown_send` or `close` was called on this end.
  bool send_shut() const noexcept;
  /// The addresses `remote_endpoint` and `local_endpoint` report; unspecified until set.
  void set_endpoints(const asio::ip::tcp::endpoint& remote,
                     const asio::ip::tcp::endpoint& local) noexcept;

  // The byte_stream operations.
  template <class Token>
  auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        read_op<false>{state_, buffer}, token, state_->executor);
  }
  std::size_t read_some_now(asio::mutable_buffer buffer, std::error_code& ec) noexcept;
  template <class Token>
  auto async_write(net::gathered_bytes bytes, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(write_op{state_, bytes},
                                                                          token, state_->executor);
  }
  /// Takes every byte at once, as `async_write` would (failing as it would), or as many as
  /// `set_write_now_limit` allows.
  std::size_t write_some_now(asio::const_buffer buffer, std::error_code& ec) noexcept;
  template <class Token>
  auto async_wait_readable(Token&& token) {
    return asio::async_compose<Token, void(std::error_code)>(read_op<true>{state_, {}}, token,
                                                             state_->executor);
  }
  void shutdown_send(std::error_code& ec) noexcept;
  void cancel() noexcept;
  void close() noexcept;
  bool is_open() const noexcept;
  bool reusable() noexcept;
  asio::ip::tcp::endpoint remote_endpoint() const noexcept { return state_->remote; }
  const asio::any_io_executor& get_executor() const noexcept { return state_->executor; }
  asio::ip::tcp::endpoint local_endpoint() const noexcept { return state_->local; }

 private:
  struct state {
    explicit state(const asio::any_io_executor& e) : executor{e}, wake{e} {}
    asio::any_io_executor executor;
    asio::steady_timer wake;  // a pending read or wait sleeps on it; new input cancels it
    std::string input;        // fed, not read yet
    std::string output;       // written by this end
    std::weak_ptr<state> peer;
    asio::ip::tcp::endpoint remote;
    asio::ip::tcp::endpoint local;
    std::size_t read_limit = std::numeric_limits<std::size_t>::max();
    std::size_t write_now_limit = std::numeric_limits<std::size_t>::max();
    std::size_t operations_until_failure = 0;  // 0: none planned
    std::error_code planned_failure;
    std::error_code failure;  // set once the planned failure is reached
    std::uint64_t cancels = 0;
    bool input_ended = false;
    bool send_shut = false;
    bool closed = false;

    // Counts an operation; the error it must fail with, if any.
    std::error_code next_operation() noexcept;
    // Reads what is there; `would_block` when the read must wait for more.
    std::size_t read_now(asio::mutable_buffer buffer, std::error_code& ec) noexcept;
    void wake_reader() noexcept;
  };

  // A read (or, `WaitOnly`, a wait for readability): posted first, so it never completes
  // inside the call that starts it; then it checks, and sleeps on `wake` until input comes.
  template <bool WaitOnly>
  struct read_op {
    std::shared_ptr<state> s;
    asio::mutable_buffer buffer;
    bool started = false;
    std::uint64_t cancels = 0;
    std::error_code planned{};

    template <class Self>
    void operator()(Self& self, std::error_code = {}) {
      if (!started) {
        started = true;
        cancels = s->cancels;
        planned = s->next_operation();
        return asio::post(s->executor, std::move(self));
      }
      std::error_code ec = planned;
      std::size_t n = 0;
      if (!ec && s->cancels != cancels) ec = asio::error::operation_aborted;
      if (!ec) {
        if constexpr (WaitOnly) {
          if (s->closed)
            ec = asio::error::bad_descriptor;
          else if (s->input.empty() && !s->input_ended)
            ec = asio::error::would_block;
        } else {
          n = s->read_now(buffer, ec);
        }
      }
      if (ec == asio::error::would_block) {
        s->wake.expires_at(asio::steady_timer::time_point::max());
        return s->wake.async_wait(std::move(self));
      }
      if constexpr (WaitOnly)
        self.complete(ec);
      else
        self.complete(ec, n);
    }
  };

  struct write_op {
    std::shared_ptr<state> s;
    net::gathered_bytes bytes;
    bool started = false;
    std::error_code planned{};

    template <class Self>
    void operator()(Self& self) {
      if (!started) {
        started = true;
        planned = s->next_operation();
        return asio::post(s->executor, std::move(self));
      }
      std::size_t n = 0;
      const std::error_code ec = planned ? planned : write_all(*s, bytes, n);
      self.complete(ec, n);
    }
  };
  static std::error_code write_all(state& s, const net::gathered_bytes& bytes,
                                   std::size_t& n) noexcept;

  explicit memory_stream(std::shared_ptr<state> s) noexcept : state_{std::move(s)} {}
  std::shared_ptr<state> state_;
};

static_assert(net::byte_stream<memory_stream>);

}  // namespace gantry::testing
