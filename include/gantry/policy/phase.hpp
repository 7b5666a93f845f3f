#pragma once
/// @file
/// The phases of an exchange that a policy may implement.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gantry::policy {

/// The phases of an exchange, in the order they first run.
enum class phase : std::uint8_t { request_head, request_body, response_head, response_body, log };

/// Number of phases.
inline constexpr std::size_t phase_count = 5;

/// The phase's name as reports write it: "request_head", ..., "log".
constexpr std::string_view name_of(phase ph) noexcept {
  constexpr std::array<std::string_view, phase_count> names = {
      "request_head", "request_body", "response_head", "response_body", "log"};
  return names[static_cast<std::size_t>(ph)];
}

}  // namespace gantry::policy
