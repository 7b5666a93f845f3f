#pragma once
/// @file
/// The set of request methods a route accepts.

#include <cstdint>
#include <initializer_list>

#include "gantry/http/method.hpp"

namespace gantry::route {

/// A set of `http::method`s. The empty set means "any method": a route that lists no method
/// accepts them all. HEAD is not implied by GET; list both when both are meant.
///
/// ```
/// using gantry::http::method;
/// gantry::route::method_set reads{method::get, method::head};
/// reads.contains(method::get);                          // true
/// reads.contains(method::post);                         // false
/// gantry::route::method_set{}.contains(method::post);   // true: empty means any
/// ```
class method_set {
 public:
  constexpr method_set() noexcept = default;
  /// The set holding exactly `methods`.
  constexpr method_set(std::initializer_list<http::method> methods) noexcept {
    for (http::method m : methods) insert(m);
  }

  /// Adds `m` to the set.
  constexpr void insert(http::method m) noexcept { bits_ |= bit(m); }
  /// True when the set accepts `m`: it holds `m`, or it is empty (any method).
  constexpr bool contains(http::method m) const noexcept {
    return bits_ == 0 || (bits_ & bit(m)) != 0;
  }
  /// True when no method is listed, so every method is accepted.
  constexpr bool any() const noexcept { return bits_ == 0; }
  /// True when every method `other` accepts is accepted by this set too.
  constexpr bool includes(method_set other) const noexcept {
    return any() || (!other.any() && (other.bits_ & ~bits_) == 0);
  }
  /// One bit per method, bit `n` for the method whose value is `n`; 0 for "any".
  constexpr std::uint64_t bits() const noexcept { return bits_; }

  /// Sets are equal when they accept the same methods.
  friend constexpr bool operator==(method_set, method_set) noexcept = default;

 private:
  static constexpr std::uint64_t bit(http::method m) noexcept {
    return std::uint64_t{1} << static_cast<unsigned>(m);
  }
  // Every method fits one 64-bit word (static_assert below), so set operations are single
  // instructions on the match path.
  std::uint64_t bits_ = 0;
};

static_assert(static_cast<unsigned>(http::method::flush) < 64, "method_set holds 64 methods");

}  // namespace gantry::route
