#include "allocation_counter.hpp"

#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)

std::size_t gantry::test::thread_allocations() noexcept { return 0; }

#else

namespace {
thread_local std::size_t allocations = 0;
}  // namespace

std::size_t gantry::test::thread_allocations() noexcept { return allocations; }

// Not inlined: GCC would otherwise see free() of operator new's pointer and warn.
[[gnu::noinline]] void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc{};
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#endif
