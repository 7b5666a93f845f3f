#include "values.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

#include <fmt/format.h>

namespace gantry::config::detail {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Reads the digits at the front of `text` into `value`, removing them; false when there are
// none or they overflow `limit`.
bool take_number(std::string_view& text, std::uint64_t limit, std::uint64_t& value) noexcept {
  std::size_t n = 0;
  value = 0;
  while (n < text.size() && is_digit(text[n])) {
    const auto digit = static_cast<std::uint64_t>(text[n] - '0');
    if (value > (limit - digit) / 10) return false;
    value = value * 10 + digit;
    ++n;
  }
  text.remove_prefix(n);
  return n > 0;
}

bool take(std::string_view& text, std::string_view prefix) noexcept {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

char normalized(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  return c == '-' ? '_' : c;
}

// Optimal string alignment distance (Levenshtein with adjacent transpositions), comparing
// case-insensitively and a dash as an underscore.
std::size_t distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::size_t> d((n + 1) * (m + 1));
  auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * (m + 1) + j]; };
  for (std::size_t i = 0; i <= n; ++i) at(i, 0) = i;
  for (std::size_t j = 0; j <= m; ++j) at(0, j) = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = normalized(a[i - 1]) == normalized(b[j - 1]) ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && normalized(a[i - 1]) == normalized(b[j - 2]) &&
          normalized(a[i - 2]) == normalized(b[j - 1]))
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(n, m);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept {
  if (text == "0") return std::chrono::milliseconds{0};
  // Bounded well inside what milliseconds hold, so sums cannot overflow either.
  constexpr std::uint64_t limit = std::uint64_t{1} << 52;
  std::uint64_t total = 0;
  if (text.empty()) return std::nullopt;
  while (!text.empty()) {
    std::uint64_t value = 0;
    if (!take_number(text, limit, value)) return std::nullopt;
    std::uint64_t unit = 0;
    if (take(text, "ms"))
      unit = 1;
    else if (take(text, "s"))
      unit = 1000;
    else if (take(text, "m"))
      unit = 60 * 1000;
    else if (take(text, "h"))
      unit = 60 * 60 * 1000;
    else
      return std::nullopt;
    if (value > (limit - total) / unit) return std::nullopt;
    total += value * unit;
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(total)};
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) noexcept {
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  if (!take_number(text, max, value)) return std::nullopt;
  static constexpr std::pair<std::string_view, std::uint64_t> units[] = {
      {"", 1},
      {"B", 1},
      {"KiB", std::uint64_t{1} << 10},
      {"MiB", std::uint64_t{1} << 20},
      {"GiB", std::uint64_t{1} << 30},
      {"KB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000 * 1000 * 1000},
  };
  for (auto [name, unit] : units) {
    if (text != name) continue;
    if (value > max / unit) return std::nullopt;
    return value * unit;
  }
  return std::nullopt;
}

std::optional<parsed_integer> parse_integer(std::string_view text) noexcept {
  parsed_integer result;
  if (take(text, "-"))
    result.negative = true;
  else
    take(text, "+");
  if (!take_number(text, std::numeric_limits<std::uint64_t>::max(), result.magnitude) ||
      !text.empty())
    return std::nullopt;
  return result;
}

std::span<const std::string_view> method_names() noexcept {
  constexpr std::size_t count = static_cast<std::size_t>(http::method::flush) + 1;
  static const std::array<std::string_view, count> names = [] {
    std::array<std::string_view, count> all{};
    for (std::size_t i = 0; i < count; ++i) all[i] = http::to_string(static_cast<http::method>(i));
    return all;
  }();
  return names;
}

std::optional<http::method> parse_method(std::string_view text) noexcept {
  auto names = method_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == text) return static_cast<http::method>(i);
  return std::nullopt;
}

std::optional<std::string> address_problem(std::string_view text, address_use use) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fmt::format("{} is not an address: write HOST:PORT, e.g. 127.0.0.1:8080", quote(text));
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  const std::uint64_t min_port = use == address_use::listen ? 0 : 1;
  std::uint64_t port_number = 0;
  std::string_view digits = port;
  if (port.size() > 5 || !take_number(digits, 99999, port_number) || !digits.empty() ||
      port_number < min_port || port_number > 65535)
    return fmt::format("bad address {}: the port must be a number from {} to 65535", quote(text),
                       min_port);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3)
      return fmt::format("bad address {}: an IPv6 address is written [ADDRESS]:PORT", quote(text));
    std::string inner{host.substr(1, host.size() - 2)};
    unsigned char buffer[16];
    if (inet_pton(AF_INET6, inner.c_str(), buffer) != 1)
      return fmt::format("bad address {}: {} is not an IPv6 address", quote(text), quote(inner));
    return std::nullopt;
  }
  if (host.empty() || host == "*") {
    if (use == address_use::listen) return std::nullopt;
    return fmt::format("bad address {}: the host is missing", quote(text));
  }
  if (host.find(':') != std::string_view::npos)
    return fmt::format("bad address {}: write an IPv6 address in brackets, e.g. [::1]:8080",
                       quote(text));
  const bool valid_chars = std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
           c == '-' || c == '_';
  });
  if (!valid_chars || host.size() > 253)
    return fmt::format("bad address {}: {} is not a host name or IP address", quote(text),
                       quote(host));
  return std::nullopt;
}

std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates) {
  // Long words from a hostile input would make the quadratic distance costly; nobody
  // misspells a field name that badly.
  if (word.empty() || word.size() > 64) return std::nullopt;
  const std::size_t allowed = std::max<std::size_t>(1, word.size() / 3);
  std::optional<std::string_view> best;
  std::size_t best_distance = allowed + 1;
  for (std::string_view c : candidates) {
    const std::size_t d = distance(word, c);
    if (d < best_distance && d < std::max(word.size(), c.size())) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string suggestion(std::string_view word, std::span<const std::string_view> candidates) {
  if (auto best = closest(word, candidates)) return fmt::format(" (did you mean '{}'?)", *best);
  return {};
}

std::string quote(std::string_view text) {
  constexpr std::size_t max_shown = 60;
  std::string out = "'";
  std::size_t shown = 0;
  for (char c : text) {
    if (shown++ == max_shown) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '\\')
      out += fmt::format("\\x{:02x}", byte);
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string join_choices(std::span<const std::string_view> words, std::string_view last) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) {
      out += i + 1 == words.size() ? " " : ", ";
      if (i + 1 == words.size()) {
        out += last;
        out += ' ';
      }
    }
    out += words[i];
  }
  return out;
}

}  // namespace gantry::config::detail
