#pragma once
/// @file
/// Shared by the fuzz targets: a check that aborts with a message (libFuzzer reports the
/// abort as a crash and keeps the input; the replay driver exits non-zero), a reader for the
/// control bytes at the start of an input, and the ways an input is cut into pieces.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace gantry::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* condition,
                              std::string_view detail = {}) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, condition);
  if (!detail.empty())
    std::fprintf(stderr, "%.*s\n", static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/// Checks `condition`; an optional second argument (a string) explains the failure.
#define GANTRY_FUZZ_CHECK(condition, ...) \
  ((condition) ? void(0)                  \
               : ::gantry::fuzz::fail(__FILE__, __LINE__, #condition __VA_OPT__(, ) __VA_ARGS__))

/// Reads an input front to back; past its end every byte reads as zero.
class input_reader {
 public:
  input_reader(const std::uint8_t* data, std::size_t size) noexcept
      : rest_{reinterpret_cast<const char*>(data), size} {}

  std::uint8_t byte() noexcept {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  /// Up to `n` bytes.
  std::string_view take(std::size_t n) noexcept {
    auto piece = rest_.substr(0, n);
    rest_.remove_prefix(piece.size());
    return piece;
  }
  std::string_view rest() const noexcept { return rest_; }
  bool empty() const noexcept { return rest_.empty(); }

 private:
  std::string_view rest_;
};

/// A small deterministic generator: the same input always gives the same pieces.
class xorshift {
 public:
  explicit xorshift(std::uint32_t seed) noexcept : state_{seed * 2654435761u | 1u} {}
  std::uint32_t next() noexcept {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  /// A number in [0, bound], bound included.
  std::size_t upto(std::size_t bound) noexcept { return next() % (bound + 1); }

 private:
  std::uint32_t state_;
};

/// How a split run cuts its input, chosen by two bits of a control byte.
enum class split_mode : std::uint8_t {
  once,    ///< Two pieces, cut where the seed says.
  random,  ///< Pieces of 0 to 16 bytes (empty pieces included).
  bytes,   ///< One byte per piece.
  twice,   ///< Three pieces.
};

/// Cuts `text` into pieces (views into it) as `mode` and `seed` say.
inline std::vector<std::string_view> split(std::string_view text, split_mode mode,
                                           std::uint8_t seed) {
  std::vector<std::string_view> pieces;
  xorshift random{seed};
  switch (mode) {
    case split_mode::once: {
      auto at = random.upto(text.size());
      pieces = {text.substr(0, at), text.substr(at)};
      break;
    }
    case split_mode::random:
      while (!text.empty()) {
        auto n = random.upto(16);
        pieces.push_back(text.substr(0, n));
        text.remove_prefix(std::min(n, text.size()));
      }
      pieces.emplace_back();  // a final empty feed must change nothing
      break;
    case split_mode::bytes:
      for (std::size_t i = 0; i < text.size(); ++i) pieces.push_back(text.substr(i, 1));
      break;
    case split_mode::twice: {
      auto a = random.upto(text.size());
      auto b = random.upto(text.size());
      if (a > b) std::swap(a, b);
      pieces = {text.substr(0, a), text.substr(a, b - a), text.substr(b)};
      break;
    }
  }
  return pieces;
}

}  // namespace gantry::fuzz
