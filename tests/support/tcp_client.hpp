#pragma once
/// @file
/// A raw TCP client with deadlines: sends exact bytes, reads responses with
/// `gantry::http::parser`, and notices when the server closes the connection.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "gantry/http/headers.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/response.hpp"
#include "support/deadline.hpp"
#include "support/pattern.hpp"

namespace gantry::testing {

/// How `tcp_client::read_response` reads one response.
struct read_options {
  /// The response answers a HEAD request: no body whatever its framing says.
  bool head_request = false;
  /// Return an interim (1xx) response rather than collecting it and reading on.
  bool stop_at_interim = false;
  /// Body bytes kept in `response_result::body`; the rest is only counted and checked
  /// against the pattern.
  std::size_t body_limit = 16u << 20;
  /// Return early, the message unfinished, once this many body bytes have arrived;
  /// `tcp_client::resume_response` reads on.
  std::uint64_t stop_after = UINT64_MAX;
};

/// One response as the client saw it, complete or not.
struct response_result {
  bool head_received = false;
  bool complete = false;   ///< The whole message was parsed (framing satisfied).
  bool closed = false;     ///< The peer closed (end of file or reset) while we read.
  bool reset = false;      ///< ...with a reset.
  bool timed_out = false;  ///< The deadline passed first.
  std::error_code parse_error;
  http::response head;
  std::vector<http::response> interim;  ///< 1xx responses that came before `head`.
  std::string body;                     ///< The first `body_limit` bytes of the body.
  std::uint64_t body_size = 0;          ///< Every body byte received.
  pattern_checker pattern;              ///< The body checked against the test pattern.
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
  bool keep_alive = false;
  http::headers trailers;

  /// The status code, or 0 when no head arrived.
  int status() const noexcept { return head_received ? static_cast<int>(head.status) : 0; }
  /// The first value of a header field, or "" when absent.
  std::string header(std::string_view name) const;
  /// Every value of a header field, joined with ", ".
  std::string header_list(std::string_view name) const;
  /// One line saying what happened, for failure messages.
  std::string summary() const;
};

/// A blocking client socket whose every operation has a deadline.
class tcp_client {
 public:
  tcp_client() = default;
  /// Connects to 127.0.0.1:`port`; throws std::runtime_error on failure.
  explicit tcp_client(std::uint16_t port, deadline d = after(std::chrono::seconds{5}));
  ~tcp_client();
  tcp_client(tcp_client&&) noexcept;
  tcp_client& operator=(tcp_client&&) noexcept;

  /// Connects to 127.0.0.1:`port`; the error says why not (connection_refused, timed_out).
  static std::error_code try_connect(std::uint16_t port, deadline d, tcp_client& out);

  bool connected() const noexcept { return fd_ >= 0; }
  int native_handle() const noexcept { return fd_; }
  /// The error of the last failed operation.
  std::error_code last_error() const noexcept { return error_; }

  /// Sends every byte; false on error (see `last_error`) or when the deadline passes.
  bool send(std::string_view bytes, deadline d);
  /// Sends `size` bytes of the test pattern starting at pattern offset `offset`.
  bool send_pattern(std::uint64_t size, deadline d, std::uint64_t offset = 0);
  /// Sends `size` bytes of the pattern as chunks of `chunk_size`, without the last chunk.
  bool send_pattern_chunked(std::uint64_t size, std::size_t chunk_size, deadline d);
  /// Total bytes sent so far on this connection.
  std::uint64_t bytes_sent() const noexcept { return sent_; }

  /// Reads one response (pipelined responses stay buffered for the next call).
  response_result read_response(deadline d, const read_options& options = {});
  /// Reads on into `r`, a response an earlier call left unfinished (see
  /// `read_options::stop_after`).
  void resume_response(response_result& r, deadline d, const read_options& options = {});
  /// Reads until the peer closes; true if it did before the deadline. Bytes that arrive
  /// meanwhile (including any already buffered) are appended to `received`.
  bool wait_for_close(deadline d, std::string* received = nullptr);
  /// Everything that arrives until the peer closes or the deadline passes.
  std::string read_until_close(deadline d);
  /// Reads whatever arrives within the deadline, up to `max` bytes, at least one read.
  std::string read_some(deadline d, std::size_t max = 1 << 20);

  /// Half-close: no more data from us.
  void shutdown_send();
  /// Closes the socket normally (FIN).
  void close();
  /// Closes with a reset (SO_LINGER 0), like a crashed client.
  void abort();

 private:
  enum class recv_status { data, closed, timed_out };
  recv_status receive(deadline d, std::size_t max = 256 * 1024);

  int fd_ = -1;
  std::error_code error_;
  std::uint64_t sent_ = 0;
  bool peer_closed_ = false;
  bool peer_reset_ = false;
  std::string buffer_;  // received, not yet parsed
  http::parser parser_{http::parser_mode::response};
};

/// A request in one string, with `Host: test` and the given extra header lines
/// ("Name: value" each, no CRLF), plus Content-Length when `body` is not empty.
std::string make_request(std::string_view method, std::string_view target,
                         const std::vector<std::string>& header_lines = {},
                         std::string_view body = {});

/// A chunked body: `pieces` as chunks, then the last chunk with `trailer_lines`.
std::string make_chunked(const std::vector<std::string>& pieces,
                         const std::vector<std::string>& trailer_lines = {});

}  // namespace gantry::testing
