#pragma once
// Internal to the router: parsing and normalizing the patterns routes are written with.
// Shared by the table builder, which validates, and by the helpers that apply rewrites.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::route::detail {

// A route's host after validation.
struct host_key {
  enum class kind : std::uint8_t { any, exact, wildcard };
  kind type = kind::any;
  // Lower-case. The host for `exact`; the suffix with its leading dot for `wildcard`
  // (".example.com" for "*.example.com").
  std::string text;
};

// The longest host `route_table` compares; longer ones only reach routes for any host.
inline constexpr std::size_t max_host_length = 255;

// Fills `out` from a route's host pattern; returns why it is malformed, or "" when it is not.
std::string parse_host(std::string_view pattern, host_key& out);

// The most segments a template or prefix may have. Matching recurses once per segment of
// the trie, so this bounds the stack a match uses whatever the configuration.
inline constexpr std::size_t max_segments = 128;

// One segment of a path template: a literal, or the name of a parameter.
struct template_segment {
  enum class kind : std::uint8_t { literal, param, catch_all };
  kind type = kind::literal;
  std::string_view text;
};

// Splits a template into segments (views into `pattern`); returns why it is malformed, or ""
// when it is not.
std::string parse_template(std::string_view pattern, std::vector<template_segment>& out);

// A prefix as `path_prefix` and `strip_prefix` read it: without a trailing '/', except "/".
std::string_view normalize_prefix(std::string_view prefix) noexcept;

// True when `path` equals `prefix` (normalized) or continues it with a '/'.
bool has_segment_prefix(std::string_view path, std::string_view prefix) noexcept;

// True for `[A-Za-z_][A-Za-z0-9_]*`.
bool is_identifier(std::string_view s) noexcept;

// If `text` starts with a placeholder `{name}` or `{*name}`, its length and (in `name`) the
// name without the '*'; otherwise 0.
std::size_t placeholder_at(std::string_view text, std::string_view& name) noexcept;

}  // namespace gantry::route::detail
