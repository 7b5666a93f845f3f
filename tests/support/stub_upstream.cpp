#include "support/stub_upstream.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <exception>
#include <stdexcept>

#include "gantry/core/ascii.hpp"
#include "gantry/http/status.hpp"

namespace gantry::testing {
namespace {

constexpr auto as_values = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t raw_limit = 1u << 20;

std::string status_line(int status) {
  auto reason = http::reason_phrase(static_cast<http::status>(status));
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string{reason} + "\r\n";
}

std::string join_fields(const http::headers& fields, std::string_view name) {
  std::string joined;
  for (auto f : fields) {
    if (!core::iequals(f.name, name)) continue;
    if (!joined.empty()) joined += ", ";
    joined += f.value;
  }
  return joined;
}

}  // namespace

std::string received_request::header(std::string_view name) const {
  auto v = head.fields.get(name);
  return v ? std::string{*v} : std::string{};
}

std::string received_request::header_list(std::string_view name) const {
  return join_fields(head.fields, name);
}

// --- stub_connection -------------------------------------------------------------------

stub_connection::stub_connection(stub_upstream& owner, asio::ip::tcp::socket socket,
                                 std::size_t index)
    : owner_{owner}, socket_{std::move(socket)}, index_{index} {}

void stub_connection::compact() {
  in_.erase(0, used_);
  used_ = 0;
}

asio::awaitable<bool> stub_connection::fill(std::size_t size) {
  compact();
  auto old = in_.size();
  in_.resize(old + size);
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.data() + old, size), as_values);
  in_.resize(old + n);
  {
    std::lock_guard lock{owner_.mutex_};
    auto& record = owner_.records_[index_];
    record.bytes_received += n;
    if (record.received.size() < raw_limit)
      record.received.append(in_.data() + old, std::min(n, raw_limit - record.received.size()));
    if (ec) {
      record.peer_closed = true;
      record.closed = true;
    }
  }
  owner_.changed();
  co_return !ec;
}

asio::awaitable<bool> stub_connection::read_head() {
  current_ = received_request{};
  current_.connection = index_;
  current_.sequence = sequence_;
  for (;;) {
    auto r = parser_.parse({in_.data() + used_, in_.size() - used_});
    used_ += r.consumed;
    if (r.event == http::parse_event::head) {
      current_.head = parser_.request();
      current_.chunked = parser_.chunked();
      current_.content_length = parser_.content_length();
      ++sequence_;
      {
        std::lock_guard lock{owner_.mutex_};
        slot_ = owner_.requests_.size();
        owner_.requests_.push_back(current_);
      }
      owner_.changed();
      co_return true;
    }
    if (r.event != http::parse_event::need_more) co_return false;
    bool more = co_await fill(16 * 1024);
    if (!more) co_return false;
  }
}

asio::awaitable<bool> stub_connection::read_body(body_reading how) {
  for (;;) {
    auto r = parser_.parse({in_.data() + used_, in_.size() - used_});
    used_ += r.consumed;
    switch (r.event) {
      case http::parse_event::body: {
        auto piece = parser_.body();
        current_.body_size += piece.size();
        current_.pattern.feed(piece);
        if (current_.body.size() < how.body_limit)
          current_.body.append(piece.substr(0, how.body_limit - current_.body.size()));
        continue;
      }
      case http::parse_event::message_end: {
        current_.complete = true;
        current_.trailers = parser_.trailers();
        {
          std::lock_guard lock{owner_.mutex_};
          owner_.requests_[slot_] = current_;
        }
        owner_.changed();
        co_return true;
      }
      case http::parse_event::need_more:
        break;
      default:
        co_return false;
    }
    if (how.pause.count() > 0) co_await sleep(how.pause);
    bool more = co_await fill(how.read_size);
    if (!more) {
      // Record what arrived of the body before the peer went away.
      std::lock_guard lock{owner_.mutex_};
      owner_.requests_[slot_] = current_;
      co_return false;
    }
  }
}

asio::awaitable<std::optional<received_request>> stub_connection::read_request(body_reading how) {
  bool head = co_await read_head();
  if (!head) co_return std::nullopt;
  bool body = co_await read_body(how);
  if (!body) co_return std::nullopt;
  co_return current_;
}

void stub_connection::count_sent(std::size_t n, bool failed) {
  {
    std::lock_guard lock{owner_.mutex_};
    auto& record = owner_.records_[index_];
    record.bytes_sent += n;
    // A failed write means the peer closed or reset the connection.
    if (failed) record.peer_closed = record.closed = true;
  }
  owner_.changed();
}

asio::awaitable<bool> stub_connection::write(std::string bytes) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), as_values);
  count_sent(n, !!ec);
  co_return !ec;
}

asio::awaitable<bool> stub_connection::write_pattern(std::uint64_t size, std::uint64_t offset) {
  std::uint64_t done = 0;
  while (done < size) {
    auto slice = pattern_slice(
        offset + done, static_cast<std::size_t>(std::min<std::uint64_t>(size - done, 256 * 1024)));
    auto [ec, n] =
        co_await asio::async_write(socket_, asio::buffer(slice.data(), slice.size()), as_values);
    count_sent(n, !!ec);
    if (ec) co_return false;
    done += n;
  }
  co_return true;
}

asio::awaitable<bool> stub_connection::respond(int status, std::string body,
                                               std::vector<std::string> header_lines) {
  std::string out = status_line(status);
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& line : header_lines) out += line + "\r\n";
  out += "\r\n";
  out += body;
  co_return co_await write(std::move(out));
}

asio::awaitable<bool> stub_connection::write_head(int status,
                                                  std::vector<std::string> header_lines) {
  std::string out = status_line(status);
  for (const auto& line : header_lines) out += line + "\r\n";
  out += "\r\n";
  co_return co_await write(std::move(out));
}

asio::awaitable<void> stub_connection::sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer{socket_.get_executor(), d};
  auto [ec] = co_await timer.async_wait(as_values);
  (void)ec;
}

asio::awaitable<void> stub_connection::wait_gate() {
  while (!owner_.gate_open_) {
    auto [ec] = co_await owner_.gate_timer_->async_wait(as_values);
    (void)ec;
  }
}

asio::awaitable<bool> stub_connection::wait_for_peer_close(std::chrono::milliseconds limit) {
  asio::steady_timer timer{socket_.get_executor(), limit};
  bool expired = false;
  timer.async_wait([this, &expired](std::error_code ec) {
    if (ec) return;
    expired = true;
    std::error_code ignored;
    socket_.cancel(ignored);
  });
  for (;;) {
    used_ = in_.size();  // discard
    bool more = co_await fill(64 * 1024);
    if (!more) break;
  }
  timer.cancel();
  if (expired) {
    // The read ended because we cancelled it, not because the peer closed.
    std::lock_guard lock{owner_.mutex_};
    owner_.records_[index_].peer_closed = false;
    owner_.records_[index_].closed = false;
  }
  co_return !expired;
}

void stub_connection::close() {
  if (!socket_.is_open()) return;
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  {
    std::lock_guard lock{owner_.mutex_};
    owner_.records_[index_].closed = true;
  }
  owner_.changed();
}

void stub_connection::abort() {
  if (!socket_.is_open()) return;
  std::error_code ignored;
  socket_.set_option(asio::socket_base::linger{true, 0}, ignored);
  socket_.close(ignored);
  {
    std::lock_guard lock{owner_.mutex_};
    owner_.records_[index_].closed = true;
  }
  owner_.changed();
}

// --- stub_upstream ---------------------------------------------------------------------

stub_upstream::stub_upstream(stub_behaviour behaviour)
    : behaviour_{std::move(behaviour)}, io_{std::make_unique<asio::io_context>(1)} {
  asio::ip::tcp::endpoint endpoint{asio::ip::address_v4::loopback(), 0};
  acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(*io_, endpoint);
  acceptor_->listen(1024);
  port_ = acceptor_->local_endpoint().port();
  gate_timer_ = std::make_unique<asio::steady_timer>(*io_, asio::steady_timer::time_point::max());
  asio::co_spawn(*io_, accept_loop(), [this](std::exception_ptr e) {
    if (e) {
      std::lock_guard lock{mutex_};
      errors_.push_back("accept loop failed");
    }
  });
  thread_ = std::thread{[this] { io_->run(); }};
}

stub_upstream::~stub_upstream() {
  asio::post(*io_, [this] {
    std::error_code ignored;
    acceptor_->close(ignored);
    io_->stop();
  });
  thread_.join();
  // I/O objects go before their io_context; the context then destroys the suspended
  // connection coroutines, which closes their sockets.
  acceptor_.reset();
  gate_timer_.reset();
  io_.reset();
}

std::string stub_upstream::address() const { return "127.0.0.1:" + std::to_string(port_); }

asio::awaitable<void> stub_upstream::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(as_values);
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) continue;
    std::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay{true}, ignored);
    std::size_t index;
    {
      std::lock_guard lock{mutex_};
      index = records_.size();
      records_.emplace_back();
    }
    changed();
    auto connection = std::make_shared<stub_connection>(*this, std::move(socket), index);
    asio::co_spawn(*io_, serve(connection), [this](std::exception_ptr e) {
      if (!e) return;
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        what = x.what();
      } catch (...) {
      }
      std::lock_guard lock{mutex_};
      errors_.push_back(what);
    });
  }
}

asio::awaitable<void> stub_upstream::serve(std::shared_ptr<stub_connection> connection) {
  co_await behaviour_(*connection);
  connection->close();
}

void stub_upstream::changed() {
  std::lock_guard lock{mutex_};
  changed_.notify_all();
}

void stub_upstream::open_gate() {
  asio::post(*io_, [this] {
    gate_open_ = true;
    gate_timer_->cancel();
  });
}

template <class Predicate>
bool stub_upstream::wait_until(deadline d, Predicate p) const {
  std::unique_lock lock{mutex_};
  return changed_.wait_until(lock, d, p);
}

std::size_t stub_upstream::connection_count() const {
  std::lock_guard lock{mutex_};
  return records_.size();
}

std::size_t stub_upstream::request_count() const {
  std::lock_guard lock{mutex_};
  return requests_.size();
}

std::vector<received_request> stub_upstream::requests() const {
  std::lock_guard lock{mutex_};
  return requests_;
}

std::vector<connection_record> stub_upstream::connections() const {
  std::lock_guard lock{mutex_};
  return records_;
}

std::size_t stub_upstream::peer_closed_count() const {
  std::lock_guard lock{mutex_};
  std::size_t n = 0;
  for (const auto& r : records_) n += r.peer_closed ? 1 : 0;
  return n;
}

std::vector<std::string> stub_upstream::errors() const {
  std::lock_guard lock{mutex_};
  return errors_;
}

bool stub_upstream::wait_for_connections(std::size_t n, deadline d) const {
  return wait_until(d, [&] { return records_.size() >= n; });
}

bool stub_upstream::wait_for_requests(std::size_t n, deadline d) const {
  return wait_until(d, [&] { return requests_.size() >= n; });
}

bool stub_upstream::wait_for_complete_requests(std::size_t n, deadline d) const {
  return wait_until(d, [&] {
    std::size_t complete = 0;
    for (const auto& r : requests_) complete += r.complete ? 1 : 0;
    return complete >= n;
  });
}

bool stub_upstream::wait_for_peer_closes(std::size_t n, deadline d) const {
  return wait_until(d, [&] {
    std::size_t closed = 0;
    for (const auto& r : records_) closed += r.peer_closed ? 1 : 0;
    return closed >= n;
  });
}

bool stub_upstream::wait_for_bytes_sent(std::size_t index, std::uint64_t n, deadline d) const {
  return wait_until(d, [&] { return index < records_.size() && records_[index].bytes_sent >= n; });
}

// --- canned behaviours -----------------------------------------------------------------

namespace stub {
namespace {

std::string describe(const received_request& r) {
  return std::string{http::to_string(r.head.method)} + " " + r.head.target;
}

}  // namespace

stub_behaviour echo() {
  return [](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      // (GCC 12 cannot take a braced list inside a co_await expression.)
      std::vector<std::string> fields{"X-Stub-Connection: " + std::to_string(c.index())};
      bool ok = co_await c.respond(200, describe(*request), std::move(fields));
      if (!ok) co_return;
    }
  };
}

stub_behaviour fixed(int status, std::string body, std::vector<std::string> header_lines) {
  return [status, body, header_lines](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      bool ok = co_await c.respond(status, body, header_lines);
      if (!ok) co_return;
    }
  };
}

stub_behaviour never_answer() {
  return [](stub_connection& c) -> asio::awaitable<void> {
    auto request = co_await c.read_request();
    if (!request) co_return;
    co_await c.wait_for_peer_close(std::chrono::seconds{30});
  };
}

stub_behaviour delayed(std::chrono::milliseconds delay) {
  return [delay](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      co_await c.sleep(delay);
      // (GCC 12 cannot take a braced list inside a co_await expression.)
      std::vector<std::string> fields{"X-Stub-Connection: " + std::to_string(c.index())};
      bool ok = co_await c.respond(200, describe(*request), std::move(fields));
      if (!ok) co_return;
    }
  };
}

stub_behaviour gated() {
  return [](stub_connection& c) -> asio::awaitable<void> {
    for (;;) {
      auto request = co_await c.read_request();
      if (!request) co_return;
      co_await c.wait_gate();
      // (GCC 12 cannot take a braced list inside a co_await expression.)
      std::vector<std::string> fields{"X-Stub-Connection: " + std::to_string(c.index())};
      bool ok = co_await c.respond(200, describe(*request), std::move(fields));
      if (!ok) co_return;
    }
  };
}

}  // namespace stub
}  // namespace gantry::testing
