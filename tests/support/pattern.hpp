#pragma once
/// @file
/// A deterministic body pattern for large transfers: byte i of a body is `i % 251`. The prime
/// period never lines up with a power-of-two buffer, so a lost, repeated or reordered block
/// shows up as a mismatch; checking and producing it is a memcmp / memcpy.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::testing {

/// At least `max` (capped at about 1 MiB) bytes of the pattern, starting at body offset
/// `offset`; a view into a static table.
std::string_view pattern_slice(std::uint64_t offset, std::size_t max);

/// `size` bytes of the pattern starting at `offset`.
std::string pattern_bytes(std::uint64_t offset, std::size_t size);

/// Checks a body against the pattern as it arrives piece by piece.
class pattern_checker {
 public:
  void feed(std::string_view piece);
  std::uint64_t size() const noexcept { return size_; }
  /// True when every byte fed so far matched.
  bool intact() const noexcept { return !first_mismatch_; }
  /// Offset of the first wrong byte, if any.
  std::optional<std::uint64_t> first_mismatch() const noexcept { return first_mismatch_; }

 private:
  std::uint64_t size_ = 0;
  std::optional<std::uint64_t> first_mismatch_;
};

}  // namespace gantry::testing
