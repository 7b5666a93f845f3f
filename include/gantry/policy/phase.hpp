#pragma once
/// @file
/// The phases of an exchange that a policy may implement.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gantry::policy {

/// The phases of an exchange, in the order they first run.
enum class phase : std::uint8_t {
  request_head,
  request_body,
  request_trailers,
  response_head,
  response_body,
  response_trailers,
  log,
};

/// Number of phases.
inline constexpr std::size_t phase_count = 7;

/// The phase's name as reports write it: "request_head", ..., "log".
constexpr std::string_view name_of(phase ph) noexcept {
  constexpr std::array<std::string_view, phase_count> names = {
      "request_head",      "request_body", "request_trailers", "response_head", "response_body",
      "response_trailers", "log"};
  return names[static_cast<std::size_t>(ph)];
}

/// The bit of `ph` in a set of phases (`policy::phases_in_use`, a chain's phase mask).
constexpr std::uint8_t phase_bit(phase ph) noexcept {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(ph));
}

/// True for the phases of the request direction (run first policy to last).
constexpr bool is_request_phase(phase ph) noexcept {
  return ph == phase::request_head || ph == phase::request_body || ph == phase::request_trailers;
}

}  // namespace gantry::policy
