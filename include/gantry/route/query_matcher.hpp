#pragma once
/// @file
/// A condition on a query-string parameter.

#include <cstdint>
#include <string>

namespace gantry::route {

/// A condition a request's query string must meet for a route to match.
///
/// The query string is read as `&`-separated `name=value` pairs. Names and values are
/// compared after percent-decoding (and '+' read as a space), case-sensitively, without
/// allocating. When a name repeats, the condition holds if any one occurrence meets it.
///
/// ```
/// route_match m{.query = {query_matcher::exact("version", "2"), query_matcher::present("debug")}};
/// // "?version=2&debug" matches; so does "?debug=0&version=%32".
/// ```
struct query_matcher {
  /// What the parameter's value must be.
  enum class kind : std::uint8_t {
    present,  ///< The parameter is there ("?debug", "?debug=", "?debug=1").
    exact,    ///< Its value equals `value`.
  };

  /// The parameter name, decoded (as it reads, not as it is encoded).
  std::string name{};
  /// How `value` is used.
  kind match = kind::present;
  /// The expected value, decoded; unused for `present`.
  std::string value{};

  /// A condition that holds when the parameter is there at all.
  static query_matcher present(std::string name) { return {std::move(name), kind::present, {}}; }
  /// A condition that holds when the parameter `name` has exactly `value`.
  static query_matcher exact(std::string name, std::string value) {
    return {std::move(name), kind::exact, std::move(value)};
  }
};

}  // namespace gantry::route
