#pragma once
/// @file
/// Locale-free ASCII helpers: HTTP field names and tokens are case-insensitive ASCII.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace gantry::core {

/// Lower-cases one ASCII letter; every other byte is returned unchanged.
constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

namespace detail {
constexpr bool iequals_bytes(const char* a, const char* b, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// True when the `Word`-sized blocks at `a` and `b` are equal but for ASCII case.
template <class Word>
bool iequals_block(const char* a, const char* b) noexcept {
  Word x;
  Word y;
  std::memcpy(&x, a, sizeof x);
  std::memcpy(&y, b, sizeof y);
  return x == y || iequals_bytes(a, b, sizeof x);
}
}  // namespace detail

/// Case-insensitive ASCII equality, e.g. `iequals("Content-Length", "content-length")`.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  const std::size_t n = a.size();
  const char* x = a.data();
  const char* y = b.data();
  if (std::is_constant_evaluated() || n < 4) return detail::iequals_bytes(x, y, n);
  // Field names are compared on every forwarded head and are mostly spelled alike: whole
  // blocks are compared at once and only a block that differs is folded byte by byte. The
  // last block overlaps the one before it rather than going byte by byte.
  if (n < 8) {
    return detail::iequals_block<std::uint32_t>(x, y) &&
           detail::iequals_block<std::uint32_t>(x + n - 4, y + n - 4);
  }
  for (std::size_t i = 0; i + 8 <= n; i += 8)
    if (!detail::iequals_block<std::uint64_t>(x + i, y + i)) return false;
  return n % 8 == 0 || detail::iequals_block<std::uint64_t>(x + n - 8, y + n - 8);
}

namespace detail {
// One lookup per byte: tokens are checked on every field a policy may have written.
inline constexpr auto token_chars = [] {
  struct table {
    bool allowed[256] = {};
  } t;
  for (int c = '0'; c <= '9'; ++c) t.allowed[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t.allowed[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t.allowed[c] = true;
  for (char c : std::string_view{"!#$%&'*+-.^_`|~"})
    t.allowed[static_cast<unsigned char>(c)] = true;
  return t;
}();
}  // namespace detail

/// True for a byte allowed in a token (RFC 9110 5.6.2 tchar).
constexpr bool is_tchar(char c) noexcept {
  return detail::token_chars.allowed[static_cast<unsigned char>(c)];
}

/// True for a token (RFC 9110 5.6.2): field names, methods, transfer codings. Not empty.
constexpr bool is_token(std::string_view s) noexcept {
  // No early exit: one branch-free lookup per byte, and bad tokens are rare.
  bool token = !s.empty();
  for (char c : s) token &= is_tchar(c);
  return token;
}

/// The value of a hexadecimal digit (either case), or -1 for any other byte.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// True for a URI's unreserved characters (RFC 3986 2.3): letters, digits, `-._~`.
constexpr bool is_unreserved(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

/// `s` without leading and trailing spaces and horizontal tabs (HTTP's OWS).
constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Calls `f(token)` for each element of a comma-separated list such as a Connection value,
/// skipping empty elements and surrounding whitespace. Stops early when `f` returns false.
template <class F>
constexpr void for_each_list_element(std::string_view list, F&& f) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto element = trim_ows(list.substr(0, comma));
    if (!element.empty() && !f(element)) return;
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

/// True when the comma-separated `list` holds `token`, compared case-insensitively.
constexpr bool list_contains(std::string_view list, std::string_view token) noexcept {
  bool found = false;
  for_each_list_element(list, [&](std::string_view element) {
    found = iequals(element, token);
    return !found;
  });
  return found;
}

}  // namespace gantry::core
