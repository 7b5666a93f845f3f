#pragma once
/// @file
/// The round-robin balancer.

#include <cstddef>

namespace gantry::upstream {

/// Picks endpoints in turn. One instance per worker and cluster, so it needs no atomics;
/// workers start at different offsets so that together they spread evenly from the start.
class round_robin {
 public:
  explicit round_robin(std::size_t start = 0) noexcept : next_{start} {}

  /// The index of the endpoint for the next request, among `count` endpoints (count > 0).
  std::size_t pick(std::size_t count) noexcept { return next_++ % count; }

 private:
  std::size_t next_;
};

}  // namespace gantry::upstream
