#include "gantry/http/target.hpp"

#include "gantry/core/ascii.hpp"

namespace gantry::http {
namespace {

constexpr bool is_hex(char c) noexcept { return core::hex_value(c) >= 0; }

constexpr bool is_digits(std::string_view s) noexcept {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// unreserved / sub-delims (RFC 3986 2.3, 2.2), one lookup per byte: every request's Host is
// checked.
constexpr auto reg_name_chars = [] {
  struct table {
    bool allowed[256] = {};
  } t;
  for (int c = 0; c < 256; ++c) t.allowed[c] = core::is_unreserved(static_cast<char>(c));
  for (char c : std::string_view{"!$&'()*+,;="}) t.allowed[static_cast<unsigned char>(c)] = true;
  return t;
}();

// reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 3.2.2); an IPv4 address
// is one too.
constexpr bool is_reg_name(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (reg_name_chars.allowed[static_cast<unsigned char>(c)]) continue;
    if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

// An IPv6 literal's inside, loosely: hex digits, colons and dots (for an embedded IPv4),
// at least one colon.
constexpr bool is_ipv6ish(std::string_view s) noexcept {
  if (s.find(':') == std::string_view::npos) return false;
  for (char c : s)
    if (!is_hex(c) && c != ':' && c != '.') return false;
  return true;
}

}  // namespace

bool is_valid_host(std::string_view host) noexcept {
  std::string_view name = host;
  if (host.starts_with('[')) {
    auto close = host.find(']');
    if (close == std::string_view::npos || !is_ipv6ish(host.substr(1, close - 1))) return false;
    name = host.substr(0, close + 1);
    host.remove_prefix(close + 1);
    if (host.empty()) return true;
    return host.front() == ':' && is_digits(host.substr(1));
  }
  auto colon = host.find(':');
  if (colon != std::string_view::npos) {
    name = host.substr(0, colon);
    if (!is_digits(host.substr(colon + 1))) return false;
  }
  return is_reg_name(name);
}

bool to_origin_form(request& req) {
  std::string_view target = req.target;
  if (target.starts_with('/')) return true;
  if (target == "*") return req.method == method::options;
  auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view scheme = target.substr(0, scheme_end);
  if (!core::iequals(scheme, "http") && !core::iequals(scheme, "https")) return false;
  const std::size_t authority_start = scheme_end + 3;
  std::size_t path_start = target.find_first_of("/?#", authority_start);
  if (path_start == std::string_view::npos) path_start = target.size();
  std::string_view authority = target.substr(authority_start, path_start - authority_start);
  // Host and port, no userinfo; and an http(s) URI's host is never empty.
  if (authority.empty() || authority.starts_with(':') || !is_valid_host(authority)) return false;
  req.fields.set("Host", authority);
  req.target.erase(0, path_start);
  if (!req.target.starts_with('/')) req.target.insert(0, 1, '/');
  return true;
}

}  // namespace gantry::http
