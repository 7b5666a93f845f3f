#pragma once
/// @file
/// The completion token Gantry's coroutines use: errors come back as values, not exceptions.

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace gantry::core {

/// `auto [ec, n] = co_await socket.async_read_some(buffer, use_tuple);`
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace gantry::core
