#pragma once
// One client connection and the exchanges on it: read a request head, pick an upstream,
// stream the request there and the response back, and do it again while keep-alive allows.
// A template on the client's byte stream, so the TCP path makes no indirect call per read;
// session.cpp instantiates it for TCP, the test kit for in-memory streams.

#include <array>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>

#include "gantry/core/coarse_clock.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/status.hpp"
#include "gantry/net/byte_stream.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/route/captures.hpp"
#include "gantry/upstream/lease.hpp"
#include "io_buffer.hpp"

namespace gantry::detail {

class worker;
struct route_entry;
struct worker_view;

// What the worker needs of each connection it serves, whatever its stream: its tick enforces
// deadlines and stop closes connections. Virtual, as these run per tick, not per read.
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

template <net::byte_stream Stream>
class session final : public session_base {
 public:
  session(worker& owner, Stream client);
  ~session() override;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  asio::awaitable<void> run();

  void enforce_deadlines(clock::time_point now) noexcept override;
  void close_if_idle() noexcept override;
  void close() noexcept override;

 private:
  enum class phase : std::uint8_t { idle, reading_head, exchanging };
  // What the connection does after an exchange.
  enum class after : std::uint8_t { keep_alive, close };

  // What a request head means for its exchange.
  struct request_plan {
    std::optional<http::status> refusal;  // the answer to a head that is refused, and closes
    bool close_after = false;             // the connection ends with this exchange
    bool expect_continue = false;         // the client waits for "100 Continue" to send a body
    bool has_body = false;
    // A local answer leaves an unread request body behind: the connection cannot go on.
    bool close_if_local() const noexcept { return close_after || has_body; }
  };

  // How far reading the next request head got.
  enum class head_read : std::uint8_t {
    ready,      // the head is parsed
    pending,    // more bytes are needed: `read_request_head` waits for them
    closed,     // the connection ends without an answer
    refused,    // the head is malformed: answer with the parser's status, then close
    timed_out,  // the head came too slowly: answer 408, then close
  };
  // Starts on the next request head with what the client has sent; no waiting.
  head_read next_request_head();
  // The head's first bytes are there: reading it begins, on its deadline.
  head_read begin_head();
  head_read parse_head();
  // Waits for and reads the rest of a head that `next_request_head` found `pending`.
  asio::awaitable<head_read> read_request_head();
  // Checks the request head and says how its exchange goes.
  request_plan plan_exchange();
  // Takes the parsed head into the policy exchange and picks its route.
  void begin_exchange();
  // The request head's policies, then the route's action.
  asio::awaitable<after> run_exchange(const request_plan& plan);
  // The route's action: a local answer, or the proxy flow. Not a coroutine itself: it returns
  // the one that carries the exchange on.
  asio::awaitable<after> route_exchange(const request_plan& plan);
  // `endpoint`, when given, is the cluster's endpoint to use instead of its balancer's pick.
  asio::awaitable<after> forward(std::uint32_t cluster, bool close_after, bool expect_continue,
                                 std::optional<std::size_t> endpoint = std::nullopt);
  // Answers a request that cannot go on with the failure's status, and closes.
  [[gnu::cold]] asio::awaitable<after> refuse(std::error_code ec);
  // Runs the log phase once the exchange is over.
  void end_exchange() noexcept;
  // Sends the local response in `exchange_` through the response phases to the client.
  asio::awaitable<after> send_local(bool close_after);
  // The gateway's own error answer: through the policies once the exchange reached them.
  // Error answers are cold: the compiler then lays the paths that call them out of the way of
  // the request path's code (about 1 % more requests per CPU-second).
  [[gnu::cold]] asio::awaitable<void> fail(http::status status);
  // The answer to a failed exchange, as `status_for` maps its error; none when the client is
  // gone.
  [[gnu::cold]] asio::awaitable<void> fail(std::error_code ec);
  asio::awaitable<std::error_code> connect(upstream::connection& conn,
                                           const asio::ip::tcp::endpoint& address);
  // A request body phase that answers leaves a local response in the exchange, and no error.
  asio::awaitable<std::error_code> send_request(bool& continue_due, bool& body_started,
                                                bool& request_complete);
  // nullopt: nothing came back on a reused connection and the request may be sent again.
  asio::awaitable<std::optional<after>> relay_response(bool close_after, bool may_retry);
  // An error answer outside any exchange (malformed request): no policy sees it.
  [[gnu::cold]] asio::awaitable<void> respond_plain(http::status status);

  // Each returns false when the head cannot be forwarded as it is.
  bool prepare_upstream_head(std::string_view endpoint_name);
  void prepare_client_head(bool& chunked_out, bool& close_after);
  void serialize_upstream_head();
  // Path and Host rewrites of the route, on the request about to go upstream.
  void apply_rewrites();

  // Reads and writes on either socket come in two halves, so that no coroutine frame of
  // Gantry's own stands between an exchange and Asio's operation (a frame costs about 250
  // instructions, as much as a small write's own user-space work): the first arms the deadline
  // and returns the operation, the second takes its result, settles the deadline and says
  // how it went. A client read is the exception: it runs on the deadline its caller armed
  // for the whole head or body, and its caller settles that.
  //     auto ec = client_written(co_await write_client(out_));
  using transfer_result = std::tuple<std::error_code, std::size_t>;
  using transfer = asio::awaitable<transfer_result>;
  transfer read_client();
  std::error_code client_read(const transfer_result& r);
  transfer read_upstream();
  std::error_code upstream_read(const transfer_result& r);
  transfer write_client(std::string_view bytes, std::string_view more = {});
  std::error_code client_written(const transfer_result& r) noexcept;
  transfer write_upstream(std::string_view bytes, std::string_view more = {});
  std::error_code upstream_written(const transfer_result& r) noexcept;
  // Reads what the client has sent, if anything: `would_block` when nothing is there yet, and
  // then the connection holds no buffer.
  std::error_code read_ready_bytes();
  void release_upstream(bool reusable) noexcept;
  void ensure_client_buffer();
  void ensure_buffers();
  void return_buffers() noexcept;

  // Deadlines are checked by the worker's tick; arming one clears an earlier expiry.
  void arm_client(clock::duration timeout) noexcept;
  void arm_upstream(clock::duration timeout) noexcept;

  worker& owner_;
  Stream client_;
  // The configuration of the current (or last) exchange, kept until the next one starts.
  std::shared_ptr<worker_view> view_;
  const route_entry* entry_ = nullptr;
  // Reused for every exchange on the connection: its buffers stop growing.
  policy::exchange exchange_;
  route::captures captures_;
  std::array<policy::route_param, route::captures::capacity> params_{};
  // The target as received: captures view it while policies may rewrite the request's.
  std::string matched_target_;
  std::uint64_t request_bytes_ = 0;
  clock::time_point exchange_deadline_ = clock::time_point::max();
  bool rechunk_request_ = false;  // body phases may change the length: sent chunked
  bool rechunk_response_ = false;
  bool in_exchange_ = false;  // policies have seen the request: they see the rest too
  bool head_request_ = false;
  // What `exchange_.downstream` views.
  std::string peer_address_;
  std::string local_address_;
  http::parser request_parser_;
  http::parser response_parser_;
  io_buffer from_client_;
  io_buffer from_upstream_;
  std::string out_;      // bytes being assembled for the next write
  std::string scratch_;  // for building header values
  // Released to the pool only when the response ended cleanly; closed on any other way out,
  // at the exchange's end at the latest.
  upstream::lease upstream_;
  std::uint32_t endpoint_ = 0;
  std::uint32_t requests_served_ = 0;
  http::version client_version_{};  // of the current request, before it is rewritten
  phase phase_ = phase::idle;
  bool client_timed_out_ = false;
  bool upstream_timed_out_ = false;
  bool response_started_ = false;  // bytes of the response already reached the client
  clock::time_point client_deadline_ = clock::time_point::max();
  clock::time_point upstream_deadline_ = clock::time_point::max();
};

// Runs a session on `client` for as long as the connection lasts; `owner` is kept alive
// for as long as the coroutine's frame exists (a host context may destroy it after the
// gateway is gone).
template <net::byte_stream Stream>
asio::awaitable<void> serve_connection(std::shared_ptr<worker> owner, Stream client);

}  // namespace gantry::detail
