#pragma once
// The gateway-wide cap on client connections, shared by its workers.

#include <atomic>
#include <cstddef>

namespace gantry::detail {

// A worker takes a unit for each connection it accepts and gives it back when the connection
// ends; one atomic operation per connection, none per request.
class connection_budget {
 public:
  explicit connection_budget(std::size_t max) noexcept : max_{max} {}

  // Takes a unit unless all are in use.
  bool try_take() noexcept {
    std::size_t used = in_use_.load(std::memory_order_relaxed);
    while (used < max_) {
      if (in_use_.compare_exchange_weak(used, used + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  void give_back() noexcept { in_use_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  const std::size_t max_;
  std::atomic<std::size_t> in_use_{0};
};

}  // namespace gantry::detail
