#pragma once
// Heap allocations per thread, counted by the unit tests' replacement operator new
// (allocation_counter.cpp), to show that a warm path allocates nothing.

#include <cstddef>

namespace gantry::test {

/// Whether allocations are counted: not under AddressSanitizer, which owns operator new.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool counting_allocations = false;
#else
inline constexpr bool counting_allocations = true;
#endif

/// Calls to operator new on the calling thread so far; 0 when not counting.
std::size_t thread_allocations() noexcept;

}  // namespace gantry::test
