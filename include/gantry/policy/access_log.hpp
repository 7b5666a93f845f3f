#pragma once
/// @file
/// The access-log policy: one JSON object per exchange, one line each, written off the
/// response path by a background thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/policy/exchange.hpp"

namespace gantry::policy {

class access_log;

/// Configuration of `access_log`.
struct access_log_config {
  using policy_type = access_log;

  /// Where lines go: "stdout", or the path of a file, created if missing and opened for
  /// appending (write "./stdout" for a file of that name).
  std::string destination = "stdout";
  /// The fields of each line, in the order written; empty means all of them, in this order:
  ///
  /// | field         | value                                                              |
  /// |---------------|--------------------------------------------------------------------|
  /// | `time`        | start of the exchange, RFC 3339 UTC with milliseconds, a string    |
  /// | `method`      | request method                                                     |
  /// | `path`        | request target, as forwarded (after the policies' edits)           |
  /// | `route`       | `exchange::route_name`, null when empty                            |
  /// | `cluster`     | `exchange::cluster`, null when empty                               |
  /// | `endpoint`    | `exchange::endpoint`, null when empty                              |
  /// | `status`      | status sent to the client, null when there was no response         |
  /// | `bytes_in`    | `exchange::request_bytes`                                          |
  /// | `bytes_out`   | `exchange::response_bytes`                                         |
  /// | `duration_ms` | end - start, in milliseconds with microseconds (3 decimals)        |
  /// | `upstream_ms` | response head - start when the upstream gave the head, else null   |
  /// | `request_id`  | the `request_id_header` field of the request, null when missing    |
  /// | `consumer`    | `exchange::consumer`, null when anonymous                          |
  /// | `client`      | the client's address (`downstream.peer_address`), null if unknown  |
  /// | `scheme`      | `downstream.scheme`: "http", or "https" over TLS                   |
  /// | `error`       | `exchange::error`'s message ("upstream timed out"), else null      |
  ///
  /// An unknown or repeated name is a configuration error.
  std::vector<std::string> fields{};
  /// The request field that holds the request id. It is read from the request head as
  /// forwarded, so a `request_id` policy placed before this one is seen.
  std::string request_id_header = "X-Request-Id";
  /// Lines wait at most this long before the writer thread writes them (it writes sooner
  /// when `flush_bytes` are waiting); at least 1 ms.
  std::chrono::milliseconds flush_interval{50};
  /// The writer is woken to write at once when this many bytes are waiting.
  std::size_t flush_bytes = 64 * 1024;
  /// The most bytes that may wait for the writer (when the destination is slower than the
  /// traffic); further lines are dropped and counted (`access_log::dropped_lines`), never
  /// waited for. At least `flush_bytes`. Reserved up front, twice (the queue and the batch
  /// being written), so that logging never reallocates; memory is committed only as used.
  std::size_t max_buffered_bytes = 8 * 1024 * 1024;
};

/// Writes one JSON object per exchange, one line each, in the log phase: local responses
/// (a 404 from `direct_response`, a 429 from a rate limit) as well as forwarded ones.
///
/// ```
/// {"time":"2024-01-01T00:00:00.250Z","method":"GET","path":"/users/7","route":"users",
///  "cluster":"users-v2","endpoint":"10.0.0.7:8080","status":200,"bytes_in":112,
///  "bytes_out":5120,"duration_ms":12.500,"upstream_ms":11.875,"request_id":"9f2c...",
///  "consumer":null,"client":"192.0.2.7","scheme":"http","error":null}
/// ```
/// (one line in the file; wrapped here).
///
/// The log phase only formats the line, in a buffer of the calling thread (no allocation
/// once it has grown), and appends it to a queue under a short lock; a background thread
/// writes the queue to the destination in batches. Copies of the policy share that writer; the
/// last copy to go writes what is left, then joins the thread. Strings are JSON-escaped
/// whatever they hold: control bytes become `\u00XX`, and so does each byte that is not part
/// of well-formed UTF-8 (its value as the code point), so every line parses as JSON.
///
/// ```
/// chain.add(gantry::policy::request_id_config{})
///      .add(gantry::policy::access_log_config{.destination = "/var/log/gantry/access.log",
///                                             .fields = {"time", "method", "path", "status",
///                                                        "duration_ms", "request_id"}});
/// ```
class access_log {
 public:
  using config = access_log_config;

  /// The names of every field, in the default order.
  static std::span<const std::string_view> field_names() noexcept;

  /// Validates `config`, opens the destination and starts the writer thread; throws
  /// `std::invalid_argument` naming every problem (unknown fields, a file that cannot be
  /// opened).
  explicit access_log(access_log_config config);

  /// Formats the exchange's line and hands it to the writer.
  void on_log(exchange& ex) const;

  /// Appends the line for `ex`, newline included, to `out`: what `on_log` writes.
  void format(const exchange& ex, std::string& out) const;

  /// Waits until every line handed to the writer so far (by any thread) is written.
  void flush() const;

  /// Lines dropped because `max_buffered_bytes` were already waiting.
  std::uint64_t dropped_lines() const noexcept;
  /// Batches the writer failed to write (it goes on with the next ones).
  std::uint64_t write_errors() const noexcept;

 private:
  class writer;
  struct layout;
  std::shared_ptr<const layout> layout_;
  std::shared_ptr<writer> writer_;
};

}  // namespace gantry::policy
