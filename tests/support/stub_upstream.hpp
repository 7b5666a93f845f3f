#pragma once
/// @file
/// A scriptable HTTP upstream on its own thread: it accepts on 127.0.0.1 (port 0), records
/// every byte and request it receives, and answers each connection as a behaviour coroutine
/// says, e.g. respond normally, never answer, close in the middle of a body, send garbage.
///
/// ```
/// gantry::testing::stub_upstream up{[](gantry::testing::stub_connection& c)
///                                       -> asio::awaitable<void> {
///   while (co_await c.read_request()) co_await c.respond(200, "hi");
/// }};
/// ```

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gantry/http/headers.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/request.hpp"
#include "support/deadline.hpp"
#include "support/pattern.hpp"

namespace gantry::testing {

/// One request as the stub received it.
struct received_request {
  std::size_t connection = 0;  ///< Index of the connection it came on (0 = first accepted).
  std::size_t sequence = 0;    ///< Its position among that connection's requests.
  http::request head;
  std::string body;  ///< The first `body_reading::body_limit` bytes.
  std::uint64_t body_size = 0;
  pattern_checker pattern;
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
  http::headers trailers;
  bool complete = false;  ///< The whole body (and trailers) arrived.

  /// The first value of a field, or "" when absent.
  std::string header(std::string_view name) const;
  /// Every value of a field joined with ", ".
  std::string header_list(std::string_view name) const;
};

/// How the stub reads a request body.
struct body_reading {
  std::size_t body_limit = 16u << 20;  ///< Bytes kept; the rest is counted and checked.
  std::size_t read_size = 64 * 1024;   ///< Bytes per socket read.
  /// A pause before each read after the head: a slow reader, to test backpressure.
  std::chrono::milliseconds pause{0};
};

class stub_upstream;

/// One accepted connection, as seen by a behaviour coroutine. Every operation reports
/// failure (peer closed, reset) as a value; none throws.
class stub_connection {
 public:
  stub_connection(stub_upstream& owner, asio::ip::tcp::socket socket, std::size_t index);

  /// 0 for the first connection the stub accepted, then 1, 2, ...
  std::size_t index() const noexcept { return index_; }
  /// The request being read or last read on this connection.
  const received_request& current() const noexcept { return current_; }

  /// Reads the next request's head; false when the peer closed (or sent garbage) first.
  asio::awaitable<bool> read_head();
  /// Reads the current request's body to its end.
  asio::awaitable<bool> read_body(body_reading how = {});
  /// `read_head` then `read_body`: the whole next request, or nullopt.
  asio::awaitable<std::optional<received_request>> read_request(body_reading how = {});

  asio::awaitable<bool> write(std::string bytes);
  /// Writes `size` bytes of the test pattern starting at pattern offset `offset`.
  asio::awaitable<bool> write_pattern(std::uint64_t size, std::uint64_t offset = 0);
  /// Writes a complete response with a Content-Length body; `header_lines` are
  /// "Name: value" each.
  asio::awaitable<bool> respond(int status, std::string body,
                                std::vector<std::string> header_lines = {});
  /// A response head (status line, `header_lines`, blank line) and nothing else.
  asio::awaitable<bool> write_head(int status, std::vector<std::string> header_lines);

  asio::awaitable<void> sleep(std::chrono::milliseconds d);
  /// Suspends until the test calls `stub_upstream::open_gate` (returns at once if open).
  asio::awaitable<void> wait_gate();
  /// Reads and discards until the peer closes; false if `limit` passes first.
  asio::awaitable<bool> wait_for_peer_close(std::chrono::milliseconds limit);

  /// Closes the connection with a FIN.
  void close();
  /// Closes the connection with a reset.
  void abort();
  bool is_open() const noexcept { return socket_.is_open(); }

 private:
  // Reads more input; false at end of file or on error (which marks the peer closed).
  asio::awaitable<bool> fill(std::size_t size);
  void compact();
  void count_sent(std::size_t n, bool failed);

  stub_upstream& owner_;
  asio::ip::tcp::socket socket_;
  std::size_t index_;
  std::size_t sequence_ = 0;
  std::size_t slot_ = 0;  // index of current_ in the owner's request list
  http::parser parser_{http::parser_mode::request};
  std::string in_;
  std::size_t used_ = 0;
  received_request current_;
};

/// A behaviour: what the stub does with each connection, from accept to return (after which
/// the stub closes the connection if the behaviour did not).
using stub_behaviour = std::function<asio::awaitable<void>(stub_connection&)>;

/// What happened on one connection, for assertions.
struct connection_record {
  std::string received;  ///< The first MiB of bytes received.
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;  ///< Bytes the stub has written (and the kernel took).
  bool peer_closed = false;      ///< The stub read end of file, or a read or write failed.
  bool closed = false;           ///< The connection is closed (by either side).
};

/// The stub server. Its thread stops, and every connection closes, on destruction.
class stub_upstream {
 public:
  explicit stub_upstream(stub_behaviour behaviour);
  ~stub_upstream();
  stub_upstream(const stub_upstream&) = delete;
  stub_upstream& operator=(const stub_upstream&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// "127.0.0.1:PORT", as gantryd's --upstream wants it.
  std::string address() const;

  std::size_t connection_count() const;
  std::size_t request_count() const;
  std::vector<received_request> requests() const;
  std::vector<connection_record> connections() const;
  /// Connections on which the stub saw the peer close.
  std::size_t peer_closed_count() const;
  /// Exceptions that escaped behaviours (should be none).
  std::vector<std::string> errors() const;

  bool wait_for_connections(std::size_t n, deadline d) const;
  /// Waits until `n` request heads have arrived (bodies may still be on their way).
  bool wait_for_requests(std::size_t n, deadline d) const;
  /// Waits until `n` requests arrived complete (with their whole body).
  bool wait_for_complete_requests(std::size_t n, deadline d) const;
  bool wait_for_peer_closes(std::size_t n, deadline d) const;
  /// Waits until the stub has written at least `n` bytes on connection `index` (which may not
  /// have been accepted yet): for a test that must act only once an unsolicited write has
  /// gone out.
  bool wait_for_bytes_sent(std::size_t index, std::uint64_t n, deadline d) const;

  /// Releases every connection waiting in `wait_gate`, now and later.
  void open_gate();

 private:
  friend class stub_connection;
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<stub_connection> connection);
  template <class Predicate>
  bool wait_until(deadline d, Predicate p) const;
  void changed();

  stub_behaviour behaviour_;
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> gate_timer_;
  bool gate_open_ = false;  // touched on the stub thread only
  std::uint16_t port_ = 0;
  std::thread thread_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<connection_record> records_;
  std::vector<received_request> requests_;
  std::vector<std::string> errors_;
};

/// Canned behaviours.
namespace stub {

/// Answers every request with 200 and the body "METHOD TARGET", plus
/// `X-Stub-Connection: <index>`; keeps the connection open until the peer closes it.
stub_behaviour echo();
/// Answers every request with `status`, `body` and `header_lines`.
stub_behaviour fixed(int status, std::string body, std::vector<std::string> header_lines = {});
/// Reads a request and never answers; waits for the peer to close.
stub_behaviour never_answer();
/// Like `echo`, but waits `delay` before each response.
stub_behaviour delayed(std::chrono::milliseconds delay);
/// Like `echo`, but waits for the test's `open_gate` before each response.
stub_behaviour gated();

}  // namespace stub

}  // namespace gantry::testing
