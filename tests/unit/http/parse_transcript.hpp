#pragma once
/// @file
/// Test helper: the doctest layer on the parser driver of tests/common/parse_transcript.hpp
/// (which drives an `http::parser` over an input fed in any split and records a
/// `transcript`): printing for failure messages, and `check_every_split`.

#include <cstddef>
#include <ostream>
#include <string_view>

#include <doctest/doctest.h>

#include "common/parse_transcript.hpp"
#include "gantry/http/parser.hpp"

namespace gantry::test {

/// For doctest, which finds it by argument-dependent lookup.
inline std::ostream& operator<<(std::ostream& os, const transcript& t) {
  return os << '\n' << describe(t) << '\n';
}

/// Options for parsing responses.
inline drive_options responses() {
  drive_options o;
  o.mode = http::parser_mode::response;
  return o;
}

/// Checks that every two-piece split of `input`, and a byte-at-a-time feed, give the same
/// transcript as parsing it in one call, and that the parser broke no contract; returns that
/// one-shot transcript.
inline transcript check_every_split(std::string_view input, const drive_options& options = {}) {
  transcript whole = parse_all(input, options);
  CHECK_MESSAGE(whole.violations.empty(), whole);
  for (std::size_t at = 0; at <= input.size(); ++at) {
    CAPTURE(at);
    CHECK(parse_split(input, at, options) == whole);
  }
  CHECK(parse_bytewise(input, options) == whole);
  return whole;
}

}  // namespace gantry::test
