#pragma once
/// @file
/// What a policy phase decides: let the exchange go on, or answer it locally.

#include <cstdint>
#include <string_view>

namespace gantry::policy {

/// The decision of one policy phase. Suspending is not a verdict: a phase that needs to wait
/// returns an `asio::awaitable<verdict>` instead (see `policy.hpp`).
enum class verdict : std::uint8_t {
  /// Pass the exchange on: to the next policy, then to the upstream or the client.
  continue_,
  /// A local response is in the exchange (`exchange::respond`): the policies after this one
  /// in the same direction do not run.
  respond,
};

/// "continue" or "respond", for logs and test output.
constexpr std::string_view to_string(verdict v) noexcept {
  return v == verdict::respond ? "respond" : "continue";
}

}  // namespace gantry::policy
