#pragma once
// Every heap allocation a benchmark program makes, counted by the replacement operator new in
// allocation_counter.cpp (linked into each benchmark), to check that a warm path makes none.

#include <cstddef>

namespace gantry::bench {

/// Heap allocations so far, on every thread.
std::size_t allocation_count() noexcept;

}  // namespace gantry::bench
