#include "random.hpp"

#include <sys/random.h>

#include <chrono>
#include <thread>

namespace gantry::policy::detail {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman and Vigna): small state, fast, good statistical quality.
class generator {
 public:
  generator() noexcept {
    std::uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
      // No entropy from the kernel: mix the time and this thread's identity instead.
      seed = static_cast<std::uint64_t>(
                 std::chrono::high_resolution_clock::now().time_since_epoch().count()) ^
             std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
             reinterpret_cast<std::uintptr_t>(this);
    }
    for (auto& word : s_) word = splitmix64(seed);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  std::uint64_t s_[4];
};

thread_local generator this_thread_generator;

}  // namespace

std::uint64_t random_u64() noexcept { return this_thread_generator.next(); }

void random_hex(char* out, std::size_t digits) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  while (digits > 0) {
    std::uint64_t bits = random_u64();
    for (int i = 0; i < 16 && digits > 0; ++i, --digits) {
      *out++ = hex[bits & 0xf];
      bits >>= 4;
    }
  }
}

}  // namespace gantry::policy::detail
