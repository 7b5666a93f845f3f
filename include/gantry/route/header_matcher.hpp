#pragma once
/// @file
/// A condition on a request header field.

#include <cstdint>
#include <string>

namespace gantry::route {

/// A condition a request's header fields must meet for a route to match.
///
/// Field names compare case-insensitively. When the request repeats a field, the condition
/// holds if any one of its fields meets it. Values are compared as the parser left them
/// (surrounding whitespace removed), case-sensitively.
///
/// ```
/// route_match m{.headers = {header_matcher::exact("X-Canary", "1"),
///                           header_matcher::present("Authorization"),
///                           header_matcher::regex("User-Agent", ".*Mobile.*")}};
/// ```
struct header_matcher {
  /// What the field's value must be.
  enum class kind : std::uint8_t {
    present,  ///< The field is there, whatever its value.
    exact,    ///< The value equals `value`.
    regex,    ///< The RE2 pattern `value` matches the whole value (linear time).
  };

  /// The field name, e.g. "X-Canary".
  std::string name{};
  /// How `value` is used.
  kind match = kind::present;
  /// The expected value (`exact`) or RE2 pattern (`regex`); unused for `present`.
  std::string value{};

  /// A condition that holds when the field is there at all.
  static header_matcher present(std::string name) { return {std::move(name), kind::present, {}}; }
  /// A condition that holds when a field named `name` has exactly `value`.
  static header_matcher exact(std::string name, std::string value) {
    return {std::move(name), kind::exact, std::move(value)};
  }
  /// A condition that holds when the RE2 `pattern` matches a whole value of `name`.
  static header_matcher regex(std::string name, std::string pattern) {
    return {std::move(name), kind::regex, std::move(pattern)};
  }
};

}  // namespace gantry::route
