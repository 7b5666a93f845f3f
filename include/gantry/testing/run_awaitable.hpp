#pragma once
/// @file
/// Runs an awaitable to completion on an io_context, from a plain test function.

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace gantry::testing {

/// The longest `run_awaitable` waits by default.
inline constexpr std::chrono::seconds default_deadline{10};

/// Runs `task` on `io` until it finishes and returns its result, or rethrows its exception in
/// the calling thread so doctest reports it. Throws `std::runtime_error` when it has not
/// finished within `deadline` (a hung test fails instead of hanging). Other work on `io`
/// runs meanwhile, as far as the task needs it; `io` must not be running elsewhere.
///
/// ```
/// TEST_CASE("...") {
///   auto n = gantry::testing::run_awaitable(read_all(stream));
///   CHECK(n == 42);
/// }
/// ```
template <class T>
T run_awaitable(asio::io_context& io, asio::awaitable<T> task,
                std::chrono::steady_clock::duration deadline = default_deadline) {
  struct result {
    bool done = false;
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
  };
  // Shared with the completion handler, which may outlive this call if the task hangs.
  auto r = std::make_shared<result>();
  if constexpr (std::is_void_v<T>) {
    asio::co_spawn(io, std::move(task), [r](std::exception_ptr e) {
      r->error = e;
      r->done = true;
    });
  } else {
    asio::co_spawn(io, std::move(task), [r](std::exception_ptr e, T value) {
      r->error = e;
      if (!e) r->value.emplace(std::move(value));
      r->done = true;
    });
  }
  io.restart();
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!r->done && io.run_one_until(until) > 0) {
  }
  if (!r->done) {
    io.stop();
    throw std::runtime_error("run_awaitable: the awaitable did not finish before its deadline");
  }
  if (r->error) std::rethrow_exception(r->error);
  if constexpr (!std::is_void_v<T>) return std::move(*r->value);
}

/// Runs `task` on a fresh io_context of its own (see the overload above).
template <class T>
T run_awaitable(asio::awaitable<T> task,
                std::chrono::steady_clock::duration deadline = default_deadline) {
  asio::io_context io;
  return run_awaitable(io, std::move(task), deadline);
}

}  // namespace gantry::testing
