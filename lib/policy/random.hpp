#pragma once
// Fast random bits for ids: a per-thread xoshiro256** generator seeded from the kernel. Not
// for secrets: ids need uniqueness and unpredictability to casual guessing, not crypto.

#include <cstddef>
#include <cstdint>

namespace gantry::policy::detail {

// 64 random bits from this thread's generator.
std::uint64_t random_u64() noexcept;

// Writes `digits` random lowercase hex digits to `out`.
void random_hex(char* out, std::size_t digits) noexcept;

}  // namespace gantry::policy::detail
