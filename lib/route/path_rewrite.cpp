#include "gantry/route/path_rewrite.hpp"

#include "pattern.hpp"

namespace gantry::route {

void rewrite_path(const path_rewrite& rewrite, std::string_view path, const captures& values,
                  std::string& out) {
  out.clear();
  if (const auto* strip = std::get_if<strip_prefix>(&rewrite)) {
    std::string_view prefix = detail::normalize_prefix(strip->prefix);
    if (prefix.empty() || prefix == "/" || !detail::has_segment_prefix(path, prefix)) {
      out.append(path);
      return;
    }
    path.remove_prefix(prefix.size());
    // Stripping the whole path leaves the root, never an empty request target.
    if (path.empty()) path = "/";
    out.append(path);
    return;
  }
  expand_captures(std::get<template_rewrite>(rewrite).pattern, values, out);
}

}  // namespace gantry::route
