#pragma once
/// @file
/// The HTTP version of a message.

#include <cstdint>

namespace gantry::http {

/// An HTTP/1.x version. HTTP/1.1 is `{1, 1}`.
struct version {
  std::uint8_t major = 1;
  std::uint8_t minor = 1;
  friend constexpr bool operator==(version, version) = default;
};

inline constexpr version http_1_0{1, 0};
inline constexpr version http_1_1{1, 1};

}  // namespace gantry::http
