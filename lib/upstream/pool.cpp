#include "gantry/upstream/pool.hpp"

#include <algorithm>

namespace gantry::upstream {

pool::pool(asio::any_io_executor executor, std::size_t endpoint_count, pool_options options)
    : executor_{std::move(executor)}, options_{options}, idle_(endpoint_count) {}

pool::~pool() { clear(); }

std::uint32_t pool::add_endpoint() {
  idle_.emplace_back();
  return static_cast<std::uint32_t>(idle_.size() - 1);
}

std::unique_ptr<connection> pool::take_idle(std::uint32_t index, clock::time_point now) {
  auto& idle = idle_[index];
  while (!idle.empty()) {
    std::unique_ptr<connection> conn = std::move(idle.back());
    idle.pop_back();
    if (now - conn->idle_since < options_.idle_timeout && conn->stream.is_open()) return conn;
    conn->stream.close();
  }
  return nullptr;
}

std::unique_ptr<connection> pool::make_connection(std::uint32_t index) const {
  return std::make_unique<connection>(executor_, index);
}

void pool::release(std::unique_ptr<connection> conn, bool reusable, clock::time_point now) {
  auto& idle = idle_[conn->endpoint];
  ++conn->exchanges;
  if (reusable && conn->stream.is_open() &&
      conn->exchanges < options_.max_exchanges_per_connection &&
      idle.size() < options_.max_idle_per_endpoint) {
    conn->idle_since = now;
    idle.push_back(std::move(conn));
    return;
  }
  conn->stream.close();
}

void pool::sweep(clock::time_point now) {
  for (auto& idle : idle_) {
    auto fresh = std::find_if(idle.begin(), idle.end(), [&](const auto& conn) {
      return now - conn->idle_since < options_.idle_timeout;
    });
    for (auto it = idle.begin(); it != fresh; ++it) {
      (*it)->stream.close();
    }
    idle.erase(idle.begin(), fresh);
  }
}

void pool::clear() {
  for (auto& idle : idle_) {
    for (auto& conn : idle) {
      conn->stream.close();
    }
    idle.clear();
  }
}

std::size_t pool::idle_count() const noexcept {
  std::size_t n = 0;
  for (const auto& idle : idle_) n += idle.size();
  return n;
}

}  // namespace gantry::upstream
