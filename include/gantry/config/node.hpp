#pragma once
/// @file
/// A node of a configuration document, as policy factories read it: typed reads that record
/// located problems instead of throwing.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gantry::config {

namespace detail {
struct node_state;
struct node_access;
}  // namespace detail

/// A node of a configuration document (a map, a list, a scalar or null), or the place where
/// a missing one would be. It knows its field path ("policies[1].config.header") and its
/// line and column, so every problem it reports is located.
///
/// Reading never throws: a value of the wrong type or form is reported (recorded in the
/// document's list of problems, all thrown together as `config::error` when the load ends)
/// and the read gives nothing back, so one load reports every problem at once. A missing
/// field is not a problem unless it is asked for with `required`.
///
/// A policy factory typically reads its configuration like this:
///
/// ```
/// [](const gantry::config::node& n, const gantry::config::policy_context&) {
///   my_policy_config c;
///   n.expect_map({"header", "limit", "window"});   // reports unknown fields
///   n.required("header").read(c.header);           // string; reported when missing
///   n["limit"].read(c.limit);                      // integer in the range of its type
///   n["window"].read(c.window);                    // duration: "250ms", "10s", "1m"
///   return gantry::policy::chain{}.add(c);
/// }
/// ```
///
/// Collections: null (`config:` with nothing after it) reads as an empty map or list.
/// Scalars: a string is any scalar; booleans are `true` or `false`; integers are decimal;
/// durations are whole numbers with units `ms`, `s`, `m`, `h`, possibly combined ("1m30s"),
/// or `0`; byte sizes are whole numbers, optionally with `KiB`, `MiB`, `GiB` (1024-based) or
/// `KB`, `MB`, `GB` (1000-based).
class node {
 public:
  /// The field path from the document's root: "routes[2].match.path"; "" for the root.
  const std::string& path() const noexcept;
  /// 1-based line of the node (of its key, for a missing or empty value).
  int line() const noexcept;
  /// 1-based column of the node.
  int column() const noexcept;

  /// True when the node is in the document; false for a missing field or list item.
  bool present() const noexcept;
  /// True for an explicit null (`~`, `null`, or a key with nothing after it).
  bool is_null() const noexcept;
  /// True for a scalar (a string, number or boolean, quoted or not).
  bool is_scalar() const noexcept;
  /// True for a list (YAML sequence).
  bool is_list() const noexcept;
  /// True for a map (YAML mapping).
  bool is_map() const noexcept;

  /// Checks that the node is a map (or null) whose keys are all among `known`, reporting
  /// each other key (with a suggestion when one of `known` is close), a key given twice and
  /// a key that is not a string. Returns false when the node is present but not a map
  /// (reported too), or missing (not reported). Call it before reading fields.
  bool expect_map(std::initializer_list<std::string_view> known) const;
  /// The value of field `key` of this map; a node that is not `present()` when the key is
  /// missing or this is not a map.
  node operator[](std::string_view key) const;
  /// Like `operator[]`, but reports the field as missing when it is.
  node required(std::string_view key) const;
  /// The fields of a map, in document order (reports when this is not a map).
  std::vector<std::pair<std::string, node>> entries() const;
  /// The items of a list (reports when this is not a list; empty for null or missing).
  std::vector<node> items() const;
  /// Which of `choices` this map has, when it has exactly one; reports several ("give only
  /// one of ...") and, when `required`, none ("give one of ..."), and returns nothing then.
  /// None is not reported when the map has a key close to a choice (`prefx` for `prefix`):
  /// `expect_map` reports that key, with the suggestion, so call it first.
  std::optional<std::string_view> one_of(std::initializer_list<std::string_view> choices,
                                         bool required = true) const;

  /// The scalar's text (reports anything else: a map, a list, null).
  std::optional<std::string> as_string() const;
  /// `true` or `false`.
  std::optional<bool> as_bool() const;
  /// A decimal integer from `min` to `max`.
  std::optional<std::int64_t> as_integer(
      std::int64_t min = std::numeric_limits<std::int64_t>::min(),
      std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  /// A non-negative decimal integer up to `max`.
  std::optional<std::uint64_t> as_unsigned(
      std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const;
  /// A duration: "250ms", "10s", "1m30s", "2h", or 0.
  std::optional<std::chrono::milliseconds> as_duration() const;
  /// A byte size: 4096, "64KiB", "10MB".
  std::optional<std::uint64_t> as_byte_size() const;
  /// A list of scalars.
  std::optional<std::vector<std::string>> as_strings() const;

  /// Each `read` assigns the value to `out` when the node is present and valid, reporting
  /// it otherwise (see the `as_` functions), and returns whether it assigned. A missing node
  /// leaves `out` alone, so its default stays.
  bool read(std::string& out) const { return assign(as_string(), out); }
  bool read(bool& out) const { return assign(as_bool(), out); }
  bool read(std::chrono::milliseconds& out) const { return assign(as_duration(), out); }
  bool read(std::vector<std::string>& out) const { return assign(as_strings(), out); }
  /// An integer in the range of `T`.
  // clang-format 14 garbles requires-clauses: laid out by hand.
  // clang-format off
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  bool read(T& out) const {
    if constexpr (std::is_signed_v<T>) {
      auto v = as_integer(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
      if (v) out = static_cast<T>(*v);
      return v.has_value();
    } else {
      auto v = as_unsigned(std::numeric_limits<T>::max());
      if (v) out = static_cast<T>(*v);
      return v.has_value();
    }
  }
  // clang-format on

  /// Reports a problem about this node: "file:line:column: path: message".
  void fail(std::string_view message) const;
  /// Reports a problem about the field `field` below this node (a path relative to it, such
  /// as "request.set[2].value"), located at the deepest part of it that is in the document.
  void fail_at(std::string_view field, std::string_view message) const;
  /// Reports something worth fixing that does not stop the load (a certificate past its
  /// expiry date, served all the same), located as `fail_at` locates a problem; it lands in
  /// `document::warnings`.
  void warn_at(std::string_view field, std::string_view message) const;

 private:
  friend struct detail::node_access;
  explicit node(std::shared_ptr<const detail::node_state> state) noexcept
      : state_{std::move(state)} {}

  template <class T>
  static bool assign(std::optional<T>&& value, T& out) {
    if (!value) return false;
    out = std::move(*value);
    return true;
  }

  std::shared_ptr<const detail::node_state> state_;
};

}  // namespace gantry::config
