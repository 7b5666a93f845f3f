#pragma once
/// @file
/// Parameters captured from the request path, and substituting them into templates.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::route {

/// One captured parameter: `{id}` in "/users/{id}" matched against "/users/7" gives
/// `{.name = "id", .value = "7"}`.
struct capture {
  /// The parameter's name; a view into the `route_table` that matched.
  std::string_view name{};
  /// The captured text; a view into the request path (still percent-encoded).
  std::string_view value{};
};

/// The parameters a match captured, in the order they appear in the pattern.
///
/// A fixed-capacity array that lives where the caller puts it (typically on the stack or in
/// the per-exchange context), so matching never allocates. It holds up to `capacity`
/// parameters; the route table rejects patterns with more. The views stay valid while both
/// the route table and the request path they point into do.
///
/// ```
/// gantry::route::captures params;
/// if (const gantry::route::route* r = table.match(request, params)) {
///   std::string_view id = params.get("id").value_or("");
/// }
/// ```
class captures {
 public:
  /// The most parameters one match can capture.
  static constexpr std::size_t capacity = 8;

  /// The value captured under `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < size_; ++i)
      if (items_[i].name == name) return items_[i].value;
    return std::nullopt;
  }

  /// Appends a parameter; returns false, changing nothing, when the array is full.
  bool push_back(capture c) noexcept {
    if (size_ == capacity) return false;
    items_[size_++] = c;
    return true;
  }
  /// Forgets every parameter.
  void clear() noexcept { size_ = 0; }

  /// The number of parameters captured.
  std::size_t size() const noexcept { return size_; }
  /// True when nothing was captured.
  bool empty() const noexcept { return size_ == 0; }
  /// The `i`-th parameter in pattern order; `i < size()`.
  const capture& operator[](std::size_t i) const noexcept { return items_[i]; }
  /// The first parameter.
  const capture* begin() const noexcept { return items_.data(); }
  /// One past the last parameter.
  const capture* end() const noexcept { return items_.data() + size_; }

 private:
  std::array<capture, capacity> items_{};
  std::size_t size_ = 0;
};

/// Appends `pattern` to `out`, replacing each `{name}` (or `{*name}`) with the value captured
/// under `name`: "/v2/users/{id}" with `id` = "7" appends "/v2/users/7". A name that was not
/// captured expands to nothing; braces that do not enclose a name are copied as they are.
/// `out` is appended to, not cleared, so a caller can reuse its capacity.
void expand_captures(std::string_view pattern, const captures& values, std::string& out);

}  // namespace gantry::route
