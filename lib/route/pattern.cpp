#include "pattern.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "gantry/core/ascii.hpp"
#include "gantry/route/captures.hpp"

namespace gantry::route::detail {

std::string parse_host(std::string_view pattern, host_key& out) {
  out = {};
  if (pattern.empty() || pattern == "*") return {};
  std::string host;
  host.reserve(pattern.size());
  for (char c : pattern) host.push_back(core::ascii_lower(c));
  if (host.starts_with("*.")) {
    out.type = host_key::kind::wildcard;
    host.erase(0, 1);
  } else {
    out.type = host_key::kind::exact;
  }
  if (host.ends_with('.')) host.pop_back();
  if (out.type == host_key::kind::wildcard && host.size() < 2)
    return "a wildcard host needs a suffix after \"*.\"";
  if (host.empty()) return "a host must not be empty";
  if (host.size() > 253) return "a host must not be longer than 253 characters";
  if (host.find('*') != std::string::npos)
    return "only a leading \"*.\" wildcard is supported, as in \"*.example.com\"";
  if (host.find_first_of("/?#@ \t\r\n") != std::string::npos)
    return "a host must not contain '/', '?', '#', '@' or whitespace";
  if (host.find("..") != std::string::npos || (out.type == host_key::kind::exact && host[0] == '.'))
    return "a host must not have empty labels";
  bool bracketed = host.front() == '[';
  if (bracketed ? host.back() != ']' : host.find(':') != std::string::npos)
    return "a host must not include a port (IPv6 addresses go in brackets: \"[::1]\")";
  out.text = std::move(host);
  return {};
}

std::string parse_template(std::string_view pattern, std::vector<template_segment>& out) {
  out.clear();
  if (!pattern.starts_with('/')) return "a path template must start with '/'";
  std::string_view rest = pattern.substr(1);
  std::size_t params = 0;
  for (;;) {
    auto slash = rest.find('/');
    std::string_view text = rest.substr(0, slash);
    template_segment seg{template_segment::kind::literal, text};
    bool braced = text.find_first_of("{}") != std::string_view::npos;
    if (braced) {
      if (text.size() < 3 || text.front() != '{' || text.back() != '}' ||
          text.substr(1, text.size() - 2).find_first_of("{}") != std::string_view::npos)
        return fmt::format("segment \"{}\": a parameter must be a whole segment, like {{id}}",
                           text);
      std::string_view name = text.substr(1, text.size() - 2);
      seg.type = template_segment::kind::param;
      if (name.starts_with('*')) {
        seg.type = template_segment::kind::catch_all;
        name.remove_prefix(1);
        if (slash != std::string_view::npos)
          return fmt::format("{{*{}}} must be the last segment", name);
      }
      if (!is_identifier(name))
        return fmt::format("parameter name \"{}\" is not an identifier ([A-Za-z_][A-Za-z0-9_]*)",
                           name);
      for (const template_segment& earlier : out)
        if (earlier.type != template_segment::kind::literal && earlier.text == name)
          return fmt::format("parameter \"{}\" appears twice", name);
      if (++params > captures::capacity)
        return fmt::format("more than {} parameters", captures::capacity);
      seg.text = name;
    }
    out.push_back(seg);
    if (out.size() > max_segments) return fmt::format("more than {} segments", max_segments);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return {};
}

std::string_view normalize_prefix(std::string_view prefix) noexcept {
  if (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  return prefix;
}

bool has_segment_prefix(std::string_view path, std::string_view prefix) noexcept {
  prefix = normalize_prefix(prefix);
  if (prefix == "/") return path.starts_with('/');
  return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

bool is_identifier(std::string_view s) noexcept {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !alpha(s.front())) return false;
  return std::all_of(s.begin() + 1, s.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

std::size_t placeholder_at(std::string_view text, std::string_view& name) noexcept {
  if (!text.starts_with('{')) return 0;
  auto close = text.find('}');
  if (close == std::string_view::npos) return 0;
  std::string_view inner = text.substr(1, close - 1);
  if (inner.starts_with('*')) inner.remove_prefix(1);
  if (!is_identifier(inner)) return 0;
  name = inner;
  return close + 1;
}

}  // namespace gantry::route::detail
