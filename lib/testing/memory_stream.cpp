#include "gantry/testing/memory_stream.hpp"

#include <algorithm>
#include <cstring>

namespace gantry::testing {

memory_stream::memory_stream(const asio::any_io_executor& executor)
    : state_{std::make_shared<state>(executor)} {}

std::pair<memory_stream, memory_stream> memory_stream::make_pair(
    const asio::any_io_executor& executor) {
  auto a = std::make_shared<state>(executor);
  auto b = std::make_shared<state>(executor);
  a->peer = b;
  b->peer = a;
  return {memory_stream{std::move(a)}, memory_stream{std::move(b)}};
}

void memory_stream::feed(std::string_view bytes) {
  state_->input.append(bytes);
  state_->wake_reader();
}

void memory_stream::feed_end() {
  state_->input_ended = true;
  state_->wake_reader();
}

std::string_view memory_stream::written() const noexcept { return state_->output; }

void memory_stream::set_read_limit(std::size_t bytes) noexcept {
  state_->read_limit = std::max<std::size_t>(bytes, 1);
}

void memory_stream::set_write_now_limit(std::size_t bytes) noexcept {
  state_->write_now_limit = bytes;
}

void memory_stream::fail_from(std::size_t n, std::error_code ec) noexcept {
  state_->operations_until_failure = n;
  state_->planned_failure = ec;
  state_->failure = {};
}

bool memory_stream::send_shut() const noexcept { return state_->send_shut; }

void memory_stream::set_endpoints(const asio::ip::tcp::endpoint& remote,
                                  const asio::ip::tcp::endpoint& local) noexcept {
  state_->remote = remote;
  state_->local = local;
}

std::error_code memory_stream::state::next_operation() noexcept {
  if (failure) return failure;
  if (operations_until_failure != 0 && --operations_until_failure == 0) failure = planned_failure;
  return failure;
}

std::size_t memory_stream::state::read_now(asio::mutable_buffer buffer,
                                           std::error_code& ec) noexcept {
  ec = {};
  if (closed) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  if (input.empty()) {
    ec =
        input_ended ? std::error_code{asio::error::eof} : std::error_code{asio::error::would_block};
    return 0;
  }
  const std::size_t n = std::min({buffer.size(), input.size(), read_limit});
  std::memcpy(buffer.data(), input.data(), n);
  input.erase(0, n);
  return n;
}

void memory_stream::state::wake_reader() noexcept { wake.cancel(); }

std::size_t memory_stream::read_some_now(asio::mutable_buffer buffer,
                                         std::error_code& ec) noexcept {
  if ((ec = state_->next_operation())) return 0;
  return state_->read_now(buffer, ec);
}

std::size_t memory_stream::write_some_now(asio::const_buffer buffer,
                                          std::error_code& ec) noexcept {
  std::size_t n = 0;
  if ((ec = state_->next_operation())) return 0;
  const std::size_t take = std::min(buffer.size(), state_->write_now_limit);
  ec = write_all(*state_, {asio::const_buffer{buffer.data(), take}, {}}, n);
  if (!ec && take == 0 && buffer.size() > 0) ec = asio::error::would_block;
  return n;
}

std::error_code memory_stream::write_all(state& s, const net::gathered_bytes& bytes,
                                         std::size_t& n) noexcept {
  n = 0;
  if (s.closed) return asio::error::bad_descriptor;
  if (s.send_shut) return asio::error::broken_pipe;
  const auto peer = s.peer.lock();
  if (peer && peer->closed) return asio::error::broken_pipe;
  for (const asio::const_buffer& b : bytes) {
    const std::string_view piece{static_cast<const char*>(b.data()), b.size()};
    s.output.append(piece);
    if (peer) peer->input.append(piece);
    n += piece.size();
  }
  if (peer) peer->wake_reader();
  return {};
}

void memory_stream::shutdown_send(std::error_code& ec) noexcept {
  ec = {};
  if (state_->closed) {
    ec = asio::error::bad_descriptor;
    return;
  }
  state_->send_shut = true;
  if (auto peer = state_->peer.lock()) {
    peer->input_ended = true;
    peer->wake_reader();
  }
}

void memory_stream::cancel() noexcept {
  ++state_->cancels;
  state_->wake_reader();
}

void memory_stream::close() noexcept {
  if (state_->closed) return;
  state_->closed = true;
  state_->send_shut = true;
  ++state_->cancels;
  state_->wake_reader();
  if (auto peer = state_->peer.lock()) {
    peer->input_ended = true;
    peer->wake_reader();
  }
}

bool memory_stream::is_open() const noexcept { return !state_->closed; }

bool memory_stream::reusable() noexcept {
  return !state_->closed && state_->input.empty() && !state_->input_ended;
}

}  // namespace gantry::testing
