#include "gantry/route/method_set.hpp"

#include <doctest/doctest.h>

using gantry::http::method;
using gantry::route::method_set;

TEST_CASE("route method set: empty accepts any method; otherwise exactly those listed") {
  constexpr method_set any;
  static_assert(any.any() && any.contains(method::patch));
  constexpr method_set reads{method::get, method::head};
  static_assert(reads.contains(method::get) && reads.contains(method::head));
  static_assert(!reads.contains(method::post) && !reads.any());

  CHECK(method_set{method::flush}.contains(method::flush));
  CHECK(method_set{method::delete_}.contains(method::delete_));
  CHECK_FALSE(method_set{method::delete_}.contains(method::get));
  CHECK((reads == method_set{method::head, method::get}));
  CHECK_FALSE(reads == any);

  CHECK(any.includes(reads));
  CHECK(any.includes(any));
  CHECK_FALSE(reads.includes(any));
  CHECK(reads.includes(method_set{method::get}));
  CHECK_FALSE(method_set{method::get}.includes(reads));

  method_set built;
  built.insert(method::put);
  CHECK(built == method_set{method::put});
  CHECK(built.bits() == (std::uint64_t{1} << static_cast<unsigned>(method::put)));
}
