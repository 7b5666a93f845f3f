#include "gantry/route/route_table.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <re2/re2.h>

#include "flat_index.hpp"
#include "gantry/core/ascii.hpp"
#include "gantry/http/target.hpp"
#include "pattern.hpp"

namespace gantry::route {

using detail::npos;

namespace {

// Text a route puts on the wire as it is may not end a field, or the request line, early.
bool has_cr_lf_or_nul(std::string_view text) noexcept {
  return text.find_first_of(std::string_view{"\r\n\0", 3}) != std::string_view::npos;
}

// Appends `problem` to `out` with the line breaks and NULs it quotes from a route (a
// pattern, a host, a name) written as \x0a, \x0d and \x00: a line break would split one
// problem over two lines of the message, and a NUL would end what() early. Other bytes are
// left as they are: the config loader finds its routes by the \x1f it names them with.
void append_one_line(std::string& out, std::string_view problem) {
  for (char c : problem) {
    if (c == '\n')
      out += "\\x0a";
    else if (c == '\r')
      out += "\\x0d";
    else if (c == '\0')
      out += "\\x00";
    else
      out += c;
  }
}

bool is_target_text(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

}  // namespace

namespace detail {

// The compiled form of a table. Routes are grouped by host pattern into tiers; each tier has
// exact paths in `paths` (scope `exact_scope(tier)`), a template trie and a prefix trie whose
// edges are also in `paths` (scope = parent node), and a list of regex routes.
struct compiled_table {
  struct header_condition {
    std::string_view name;
    header_matcher::kind kind;
    std::string_view value;
    const re2::RE2* regex;
  };
  struct query_condition {
    std::string_view name;
    query_matcher::kind kind;
    std::string_view value;
  };
  // What `match` needs about one route, next to the route itself.
  struct route_info {
    std::vector<header_condition> headers;
    std::vector<query_condition> query;
    // Template parameter names in pattern order (views into the route's pattern).
    std::array<std::string_view, captures::capacity> params{};
    const re2::RE2* path_regex = nullptr;
    // 1 + the highest named group's index; 0 when the regex names no group.
    int submatches = 0;
    // Named groups as (index, name), in index order.
    std::vector<std::pair<int, std::string_view>> group_names;
  };
  struct node {
    std::uint32_t param_child = npos;
    // A list of routes whose pattern ends here: templates in the template trie, prefixes in
    // the prefix trie.
    std::uint32_t terminal = npos;
    // A list of templates whose `{*rest}` follows this node.
    std::uint32_t catch_all = npos;
    std::uint32_t static_children = 0;
    // Where this node's children start in `small_edges`, when it has few enough to scan.
    std::uint32_t first_small_edge = npos;
  };
  // A child of a node with few children, found by scanning its siblings: they share a cache
  // line or two, where a hash lookup would touch a line of its own per segment.
  struct small_edge {
    std::uint64_t head = 0;  // detail::key_head of the segment
    std::uint32_t length = 0;
    std::uint32_t child = npos;
    std::uint32_t tail_offset = 0;  // the bytes after the first 8, in small_tails
  };
  // Nodes with at most this many literal children scan them instead of hashing.
  static constexpr std::uint32_t max_small_edges = 8;
  struct span {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };
  // One route in a list of candidates, with what decides most matches inline so that routes
  // without header or query conditions are accepted without touching `info`.
  struct candidate {
    method_set methods;
    std::uint32_t route = 0;
    bool has_conditions = false;
  };
  struct tier {
    bool has_exact = false;
    std::uint32_t template_root = npos;
    std::uint32_t prefix_root = npos;
    std::uint32_t regexes = npos;  // a list
  };

  static constexpr std::uint32_t exact_host_scope = 0;
  static constexpr std::uint32_t wildcard_scope = 1;
  static constexpr std::uint32_t exact_scope(std::uint32_t tier) noexcept {
    return 0x80000000u | tier;
  }

  std::vector<route> routes;
  std::vector<route_info> info;
  std::vector<std::unique_ptr<re2::RE2>> regexes;
  detail::flat_index hosts;
  detail::flat_index paths;
  std::vector<tier> tiers;
  std::vector<node> nodes;
  std::vector<small_edge> small_edges;
  std::string small_tails;
  std::vector<span> lists;
  std::vector<candidate> list_items;
  // A one-hash Bloom filter over every tier's exact paths: most requests for templates and
  // prefixes skip the exact-path probe, which would otherwise be a cache miss.
  std::vector<std::uint64_t> exact_filter;
  std::uint64_t exact_filter_mask = 0;
  std::uint32_t default_tier = npos;
  bool has_exact_hosts = false;
  bool has_wildcards = false;
  // Which lengths the exact hosts and the wildcard suffixes have: most of a request host's
  // suffixes are skipped without hashing them.
  std::bitset<detail::max_host_length + 1> exact_host_lengths;
  std::bitset<detail::max_host_length + 1> wildcard_lengths;

  static std::uint64_t filter_bit(std::uint64_t hash) noexcept { return hash >> 40; }
  bool may_be_exact(std::uint64_t hash) const noexcept {
    const std::uint64_t bit = filter_bit(hash) & exact_filter_mask;
    return (exact_filter[bit >> 6] >> (bit & 63)) & 1;
  }

  // The child of `node_id` along the literal `segment`, or npos.
  std::uint32_t child(std::uint32_t node_id, const node& n,
                      std::string_view segment) const noexcept {
    if (n.static_children == 0) return npos;
    if (n.first_small_edge == npos) return paths.find(node_id, segment);
    const std::uint64_t head = detail::key_head(segment);
    const small_edge* e = small_edges.data() + n.first_small_edge;
    for (const small_edge* end = e + n.static_children; e != end; ++e) {
      if (e->length == segment.size() && e->head == head &&
          (segment.size() <= 8 || std::string_view{small_tails.data() + e->tail_offset,
                                                   segment.size() - 8} == segment.substr(8)))
        return e->child;
    }
    return npos;
  }

  const route* match(const request_view& req, captures& out) const noexcept;
  const route* match_tier(std::uint32_t t, const request_view& req, captures& out) const noexcept;
};

}  // namespace detail

namespace {

using compiled = detail::compiled_table;

bool header_holds(const compiled::header_condition& c, const http::headers* fields) noexcept {
  if (fields == nullptr) return false;
  for (http::field f : *fields) {
    if (!core::iequals(f.name, c.name)) continue;
    switch (c.kind) {
      case header_matcher::kind::present:
        return true;
      case header_matcher::kind::exact:
        if (f.value == c.value) return true;
        break;
      case header_matcher::kind::regex:
        if (re2::RE2::FullMatch(re2::StringPiece{f.value.data(), f.value.size()}, *c.regex))
          return true;
        break;
    }
  }
  return false;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `raw`, percent-decoded with '+' as a space, equals `decoded`; no allocation.
bool decoded_equals(std::string_view raw, std::string_view decoded) noexcept {
  std::size_t j = 0;
  for (std::size_t i = 0; i < raw.size(); ++j) {
    if (j == decoded.size()) return false;
    char c = raw[i];
    int hi = 0, lo = 0;
    if (c == '%' && i + 2 < raw.size() && (hi = hex_digit(raw[i + 1])) >= 0 &&
        (lo = hex_digit(raw[i + 2])) >= 0) {
      c = static_cast<char>(hi * 16 + lo);
      i += 3;
    } else {
      if (c == '+') c = ' ';
      ++i;
    }
    if (c != decoded[j]) return false;
  }
  return j == decoded.size();
}

bool query_holds(const compiled::query_condition& c, std::string_view query) noexcept {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto equals = pair.find('=');
    std::string_view name = pair.substr(0, equals);
    if (decoded_equals(name, c.name)) {
      if (c.kind == query_matcher::kind::present) return true;
      std::string_view value = equals == std::string_view::npos ? "" : pair.substr(equals + 1);
      if (decoded_equals(value, c.value)) return true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

// The header and query conditions; the caller has checked the method.
bool conditions_hold(const compiled::route_info& info, const request_view& req) noexcept {
  for (const auto& c : info.headers)
    if (!header_holds(c, req.headers)) return false;
  for (const auto& c : info.query)
    if (!query_holds(c, req.query)) return false;
  return true;
}

// One match's walk through a tier's tries; `values` holds the parameters captured so far.
struct walk {
  const compiled& table;
  const request_view& req;
  captures& out;
  std::array<std::string_view, captures::capacity> values{};

  // The first route in `list` whose conditions hold, with `count` captured values.
  const route* first_accepted(std::uint32_t list, std::size_t count) noexcept {
    if (list == npos) return nullptr;
    const compiled::span s = table.lists[list];
    for (std::uint32_t i = s.begin; i < s.end; ++i) {
      const compiled::candidate& c = table.list_items[i];
      if (!c.methods.contains(req.method)) continue;
      if (c.has_conditions && !conditions_hold(table.info[c.route], req)) continue;
      out.clear();
      if (count > 0) {
        const compiled::route_info& info = table.info[c.route];
        for (std::size_t k = 0; k < count; ++k) out.push_back({info.params[k], values[k]});
      }
      return &table.routes[c.route];
    }
    return nullptr;
  }

  // Templates below `node`, for the path `rest` that follows a '/'. Static children are
  // tried before the parameter child, which is tried before a catch-all; the recursion is as
  // deep as the trie, never deeper, whatever the path.
  const route* templates(std::uint32_t node_id, std::string_view rest, std::size_t depth) noexcept {
    const compiled::node& n = table.nodes[node_id];
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    const std::string_view tail = last ? std::string_view{} : rest.substr(slash + 1);

    if (std::uint32_t child = table.child(node_id, n, segment); child != npos) {
      const route* r =
          last ? first_accepted(table.nodes[child].terminal, depth) : templates(child, tail, depth);
      if (r) return r;
    }
    if (n.param_child != npos && !segment.empty() && depth < values.size()) {
      values[depth] = segment;
      const route* r = last ? first_accepted(table.nodes[n.param_child].terminal, depth + 1)
                            : templates(n.param_child, tail, depth + 1);
      if (r) return r;
    }
    if (n.catch_all != npos && depth < values.size()) {
      values[depth] = rest;
      return first_accepted(n.catch_all, depth + 1);
    }
    return nullptr;
  }

  // Prefixes along the path's segments from `node`, deepest (longest) first.
  const route* prefixes(std::uint32_t node_id, std::string_view rest) noexcept {
    const compiled::node& n = table.nodes[node_id];
    if (n.static_children != 0) {
      const auto slash = rest.find('/');
      if (std::uint32_t child = table.child(node_id, n, rest.substr(0, slash)); child != npos) {
        const route* r = slash == std::string_view::npos
                             ? first_accepted(table.nodes[child].terminal, 0)
                             : prefixes(child, rest.substr(slash + 1));
        if (r) return r;
      }
    }
    return first_accepted(n.terminal, 0);
  }

  const route* regexes(std::uint32_t list) noexcept {
    if (list == npos) return nullptr;
    const std::string_view path = req.path;
    const re2::StringPiece text{path.data(), path.size()};
    const compiled::span s = table.lists[list];
    for (std::uint32_t i = s.begin; i < s.end; ++i) {
      const compiled::candidate& c = table.list_items[i];
      if (!c.methods.contains(req.method)) continue;
      const std::uint32_t id = c.route;
      const compiled::route_info& info = table.info[id];
      std::array<re2::StringPiece, 1 + max_regex_groups> groups;
      if (!info.path_regex->Match(text, 0, text.size(), re2::RE2::ANCHOR_BOTH, groups.data(),
                                  info.submatches))
        continue;
      if (c.has_conditions && !conditions_hold(info, req)) continue;
      out.clear();
      for (const auto& [index, name] : info.group_names) {
        const re2::StringPiece& g = groups[static_cast<std::size_t>(index)];
        if (g.data() != nullptr) out.push_back({name, {g.data(), g.size()}});
      }
      return &table.routes[id];
    }
    return nullptr;
  }

  // Named groups beyond this index are rejected when the table is built, so the submatch
  // array fits on the stack.
  static constexpr std::size_t max_regex_groups = 32;
};

}  // namespace

const route* detail::compiled_table::match_tier(std::uint32_t t, const request_view& req,
                                                captures& out) const noexcept {
  const tier& tr = tiers[t];
  walk w{*this, req, out};
  if (tr.has_exact) {
    const std::uint64_t h = detail::hash_key(exact_scope(t), req.path);
    if (may_be_exact(h)) {
      if (const route* r = w.first_accepted(paths.find(exact_scope(t), req.path, h), 0)) return r;
    }
  }
  if (req.path.starts_with('/')) {
    const std::string_view rest = req.path.substr(1);
    if (tr.template_root != npos) {
      if (const route* r = w.templates(tr.template_root, rest, 0)) return r;
    }
    if (tr.prefix_root != npos) {
      if (const route* r = w.prefixes(tr.prefix_root, rest)) return r;
    }
  }
  return w.regexes(tr.regexes);
}

const route* detail::compiled_table::match(const request_view& req, captures& out) const noexcept {
  std::string_view host = req.host;
  if (host.ends_with('.')) host.remove_suffix(1);
  if ((has_exact_hosts || has_wildcards) && !host.empty() &&
      host.size() <= detail::max_host_length) {
    // Host patterns are stored lower-case; fold the request's host once, on the stack.
    std::array<char, detail::max_host_length> folded;
    for (std::size_t i = 0; i < host.size(); ++i) folded[i] = core::ascii_lower(host[i]);
    const std::string_view key{folded.data(), host.size()};
    if (exact_host_lengths[key.size()]) {
      if (std::uint32_t t = hosts.find(exact_host_scope, key); t != npos)
        if (const route* r = match_tier(t, req, out)) return r;
    }
    if (has_wildcards) {
      // The leftmost dot gives the longest suffix, the most specific wildcard.
      for (std::size_t i = 1; i < key.size(); ++i) {
        if (key[i] != '.' || !wildcard_lengths[key.size() - i]) continue;
        if (std::uint32_t t = hosts.find(wildcard_scope, key.substr(i)); t != npos)
          if (const route* r = match_tier(t, req, out)) return r;
      }
    }
  }
  if (default_tier != npos) return match_tier(default_tier, req, out);
  return nullptr;
}

const route* route_table::match(const request_view& req, captures& out) const noexcept {
  out.clear();
  if (!compiled_) return nullptr;
  return compiled_->match(req, out);
}

std::span<const route> route_table::routes() const noexcept {
  if (!compiled_) return {};
  return compiled_->routes;
}

// ---------------------------------------------------------------------------------------------
// Building

namespace {

enum class path_kind : std::uint8_t { exact, template_, prefix, regex };

std::string_view kind_name(path_kind k) noexcept {
  switch (k) {
    case path_kind::exact:
      return "exact path";
    case path_kind::template_:
      return "path template";
    case path_kind::prefix:
      return "path prefix";
    case path_kind::regex:
      return "path regex";
  }
  return "path";
}

// A condition in a comparable form: (name, kind, value), header names lower-cased.
using condition = std::tuple<std::string, int, std::string>;

// Everything the builder learns about one route before compiling it.
struct analysis {
  detail::host_key host;
  path_kind kind = path_kind::exact;
  // The path pattern as compared for conflicts: parameter names replaced by "{}"/"{*}".
  std::string shape;
  std::vector<detail::template_segment> segments;
  std::unique_ptr<re2::RE2> path_regex;
  std::vector<std::unique_ptr<re2::RE2>> header_regexes;  // one per header condition, or null
  std::vector<std::string_view> capture_names;
  std::vector<condition> header_conditions;  // sorted, unique
  std::vector<condition> query_conditions;   // sorted, unique
  bool valid = true;
};

std::unique_ptr<re2::RE2> compile_regex(std::string_view pattern, std::string& error) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(re2::StringPiece{pattern.data(), pattern.size()}, options);
  if (!re->ok()) error = re->error();
  return re;
}

// True when every condition in `weaker` holds whenever all of `stronger` do: each is in
// `stronger`, or asks only for presence of a name `stronger` constrains.
bool implied_by(const std::vector<condition>& weaker, const std::vector<condition>& stronger) {
  return std::all_of(weaker.begin(), weaker.end(), [&](const condition& w) {
    return std::any_of(stronger.begin(), stronger.end(), [&](const condition& s) {
      return std::get<0>(w) == std::get<0>(s) && (std::get<1>(w) == 0 || w == s);
    });
  });
}

class table_compiler {
 public:
  explicit table_compiler(std::vector<route> routes) : c_{std::make_shared<compiled>()} {
    c_->routes = std::move(routes);
  }

  std::shared_ptr<const compiled> run() {
    // Views into the routes are taken from here on: the vector must not change any more.
    const std::size_t n = c_->routes.size();
    analyses_.resize(n);
    check_names();
    for (std::size_t i = 0; i < n; ++i) analyze(i);
    check_overlaps();
    if (!errors_.empty()) {
      std::string message = errors_.size() == 1
                                ? std::string{}
                                : fmt::format("{} problems in the route table:\n", errors_.size());
      for (std::size_t i = 0; i < errors_.size(); ++i) {
        if (i > 0) message += '\n';
        append_one_line(message, errors_[i]);
      }
      throw std::invalid_argument(message);
    }
    for (std::size_t i = 0; i < n; ++i) compile(static_cast<std::uint32_t>(i));
    flatten_lists();
    fill_exact_filter();
    fill_small_edges();
    return std::move(c_);
  }

 private:
  std::string describe(std::size_t i) const {
    const std::string& name = c_->routes[i].name;
    return name.empty() ? fmt::format("#{}", i + 1) : fmt::format("'{}'", name);
  }

  template <class... Args>
  void fail(std::size_t i, fmt::format_string<Args...> format, Args&&... args) {
    errors_.push_back(
        fmt::format("route {}: {}", describe(i), fmt::format(format, std::forward<Args>(args)...)));
    analyses_[i].valid = false;
  }

  void check_names() {
    std::map<std::string_view, std::size_t> first;
    for (std::size_t i = 0; i < c_->routes.size(); ++i) {
      const std::string& name = c_->routes[i].name;
      if (name.empty()) continue;
      auto [it, inserted] = first.emplace(name, i);
      if (!inserted)
        errors_.push_back(
            fmt::format("routes #{} and #{} are both named '{}'; names must be unique",
                        it->second + 1, i + 1, name));
    }
  }

  // Checks that every `{name}` in `pattern` is a parameter the route captures.
  void check_placeholders(std::size_t i, std::string_view what, std::string_view pattern) {
    const analysis& a = analyses_[i];
    for (std::size_t at = pattern.find('{'); at != std::string_view::npos;
         at = pattern.find('{', at + 1)) {
      std::string_view name;
      if (detail::placeholder_at(pattern.substr(at), name) == 0) continue;
      if (std::find(a.capture_names.begin(), a.capture_names.end(), name) == a.capture_names.end())
        fail(i, "{} \"{}\" uses {{{}}}, which the route's path does not capture", what, pattern,
             name);
    }
  }

  void analyze(std::size_t i) {
    route& r = c_->routes[i];
    analysis& a = analyses_[i];

    if (std::string why = detail::parse_host(r.match.host, a.host); !why.empty())
      fail(i, "host \"{}\": {}", r.match.host, why);

    analyze_path(i);

    for (const header_matcher& h : r.match.headers) {
      std::unique_ptr<re2::RE2> re;
      if (h.name.empty()) fail(i, "a header condition has no field name");
      if (h.match == header_matcher::kind::regex) {
        std::string error;
        re = compile_regex(h.value, error);
        if (!error.empty()) fail(i, "header \"{}\" regex \"{}\": {}", h.name, h.value, error);
      }
      a.header_regexes.push_back(std::move(re));
      std::string name;
      for (char ch : h.name) name.push_back(core::ascii_lower(ch));
      a.header_conditions.emplace_back(std::move(name), static_cast<int>(h.match),
                                       h.match == header_matcher::kind::present ? "" : h.value);
    }
    for (const query_matcher& q : r.match.query) {
      if (q.name.empty()) fail(i, "a query condition has no parameter name");
      a.query_conditions.emplace_back(q.name, static_cast<int>(q.match),
                                      q.match == query_matcher::kind::present ? "" : q.value);
    }
    for (auto* conditions : {&a.header_conditions, &a.query_conditions}) {
      std::sort(conditions->begin(), conditions->end());
      conditions->erase(std::unique(conditions->begin(), conditions->end()), conditions->end());
    }

    analyze_action(i);
    check_wire_text(i);

    if (r.rewrite) {
      if (auto* strip = std::get_if<strip_prefix>(&*r.rewrite)) {
        if (strip->prefix.empty()) {
          if (auto* prefix = std::get_if<path_prefix>(&r.match.path))
            strip->prefix = std::string{detail::normalize_prefix(prefix->prefix)};
          else
            fail(i, "strip_prefix{{}} without a prefix needs a path_prefix route");
        } else if (!strip->prefix.starts_with('/')) {
          fail(i, "strip_prefix \"{}\" must start with '/'", strip->prefix);
        }
      } else {
        const std::string& pattern = std::get<template_rewrite>(*r.rewrite).pattern;
        if (!pattern.starts_with('/'))
          fail(i, "rewrite template \"{}\" must start with '/'", pattern);
        check_placeholders(i, "rewrite template", pattern);
      }
    }
    if (r.timeout && r.timeout->count() <= 0)
      fail(i, "timeout must be positive, not {} ms", r.timeout->count());
  }

  void analyze_path(std::size_t i) {
    const route& r = c_->routes[i];
    analysis& a = analyses_[i];
    if (const auto* exact = std::get_if<path_exact>(&r.match.path)) {
      a.kind = path_kind::exact;
      a.shape = exact->path;
      if (!exact->path.starts_with('/') && exact->path != "*")
        fail(i, "exact path \"{}\" must start with '/'", exact->path);
    } else if (const auto* prefix = std::get_if<path_prefix>(&r.match.path)) {
      a.kind = path_kind::prefix;
      a.shape = detail::normalize_prefix(prefix->prefix);
      if (!prefix->prefix.starts_with('/'))
        fail(i, "path prefix \"{}\" must start with '/'", prefix->prefix);
      else if (static_cast<std::size_t>(std::count(a.shape.begin(), a.shape.end(), '/')) >
               detail::max_segments)
        fail(i, "path prefix \"{}\" has more than {} segments", prefix->prefix,
             detail::max_segments);
    } else if (const auto* tmpl = std::get_if<path_template>(&r.match.path)) {
      if (std::string why = detail::parse_template(tmpl->pattern, a.segments); !why.empty()) {
        fail(i, "path template \"{}\": {}", tmpl->pattern, why);
        return;
      }
      bool has_params = false;
      for (const detail::template_segment& s : a.segments) {
        a.shape += '/';
        switch (s.type) {
          case detail::template_segment::kind::literal:
            a.shape += s.text;
            break;
          case detail::template_segment::kind::param:
            a.shape += "{}";
            break;
          case detail::template_segment::kind::catch_all:
            a.shape += "{*}";
            break;
        }
        if (s.type != detail::template_segment::kind::literal) {
          has_params = true;
          a.capture_names.push_back(s.text);
        }
      }
      // Without parameters a template is an exact path, and ranks and conflicts as one.
      a.kind = has_params ? path_kind::template_ : path_kind::exact;
    } else {
      const auto& regex = std::get<path_regex>(r.match.path);
      a.kind = path_kind::regex;
      a.shape = regex.pattern;
      std::string error;
      a.path_regex = compile_regex(regex.pattern, error);
      if (!error.empty()) {
        fail(i, "path regex \"{}\": {}", regex.pattern, error);
        return;
      }
      const auto& names = a.path_regex->CapturingGroupNames();
      if (names.size() > captures::capacity)
        fail(i, "path regex \"{}\" names more than {} groups", regex.pattern, captures::capacity);
      for (const auto& [index, name] : names) {
        if (static_cast<std::size_t>(index) > walk::max_regex_groups)
          fail(i, "path regex \"{}\": named group \"{}\" is group {}, beyond the first {}",
               regex.pattern, name, index, walk::max_regex_groups);
        a.capture_names.push_back(name);
      }
    }
  }

  void analyze_action(std::size_t i) {
    const route& r = c_->routes[i];
    if (const auto* p = std::get_if<proxy>(&r.action)) {
      if (p->cluster.empty()) fail(i, "proxy action has no cluster name");
    } else if (const auto* split = std::get_if<weighted_split>(&r.action)) {
      std::uint64_t total = 0;
      for (const weighted_cluster& c : split->clusters) {
        if (c.cluster.empty()) fail(i, "weighted split lists a cluster without a name");
        total += c.weight;
      }
      if (split->clusters.empty())
        fail(i, "weighted split has no clusters");
      else if (total == 0)
        fail(i, "weighted split's weights add up to 0");
      if (split->sticky && split->sticky->name.empty())
        fail(i, "weighted split's sticky key has no name");
    } else if (const auto* to = std::get_if<redirect>(&r.action)) {
      const auto code = static_cast<unsigned>(to->status);
      if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
        fail(i, "redirect status {} is not one of 301, 302, 303, 307, 308", code);
      if (to->to_https && !to->location.empty())
        fail(i, "redirect has both a location and to_https: give one");
      else if (!to->to_https && to->location.empty())
        fail(i, "redirect has no location");
      if (to->to_https && to->https_port == 0) fail(i, "redirect https_port is 0");
      check_placeholders(i, "redirect location", to->location);
    } else if (const auto* direct = std::get_if<direct_response>(&r.action)) {
      const auto code = static_cast<unsigned>(direct->status);
      if (code < 200 || code > 599) fail(i, "direct response status {} is not in 200..599", code);
    } else if (!std::get<pick_upstream>(r.action).pick) {
      fail(i, "pick_upstream action has no function");
    }
  }

  // What a route writes as it is (Host, a redirect's Location, a direct response's fields, a
  // rewritten target) cannot carry CR, LF or NUL into a head.
  void check_wire_text(std::size_t i) {
    const route& r = c_->routes[i];
    if (!r.host_rewrite.empty() && !http::is_valid_host(r.host_rewrite))
      fail(i, "host_rewrite \"{}\" is not a host with an optional port", r.host_rewrite);
    if (const auto* to = std::get_if<redirect>(&r.action); to && has_cr_lf_or_nul(to->location))
      fail(i, "redirect location holds CR, LF or NUL");
    if (const auto* direct = std::get_if<direct_response>(&r.action)) {
      for (http::field f : direct->headers) {
        if (!core::is_token(f.name))
          fail(i, "direct response field \"{}\" is not a field name (an RFC 9110 token)", f.name);
        else if (has_cr_lf_or_nul(f.value))
          fail(i, "direct response field {} holds CR, LF or NUL", f.name);
      }
    }
    if (const auto* rewrite = r.rewrite ? std::get_if<template_rewrite>(&*r.rewrite) : nullptr;
        rewrite && !is_target_text(rewrite->pattern))
      fail(i, "rewrite template holds whitespace, control or non-ASCII bytes");
  }

  // Conflicts and shadowed routes, among routes with the same host and path pattern.
  void check_overlaps() {
    std::map<std::tuple<int, std::string, int, std::string>, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < analyses_.size(); ++i) {
      const analysis& a = analyses_[i];
      if (!a.valid) continue;
      groups[{static_cast<int>(a.host.type), a.host.text, static_cast<int>(a.kind), a.shape}]
          .push_back(i);
    }
    for (const auto& [key, members] : groups) {
      for (std::size_t x = 0; x < members.size(); ++x) {
        for (std::size_t y = x + 1; y < members.size(); ++y) {
          const std::size_t i = members[x], j = members[y];
          const analysis& a = analyses_[i];
          const analysis& b = analyses_[j];
          const method_set ma = c_->routes[i].match.methods, mb = c_->routes[j].match.methods;
          const std::string where =
              fmt::format("host \"{}\", {} \"{}\"",
                          a.host.type == detail::host_key::kind::wildcard ? "*" + a.host.text
                          : a.host.type == detail::host_key::kind::any    ? "*"
                                                                          : a.host.text,
                          kind_name(a.kind), a.shape);
          if (ma == mb && a.header_conditions == b.header_conditions &&
              a.query_conditions == b.query_conditions) {
            errors_.push_back(fmt::format(
                "routes {} and {} conflict: same {}, same methods and the same header and query "
                "conditions",
                describe(i), describe(j), where));
          } else if (ma.includes(mb) && implied_by(a.header_conditions, b.header_conditions) &&
                     implied_by(a.query_conditions, b.query_conditions)) {
            errors_.push_back(fmt::format(
                "route {} can never match: route {}, declared before it with the same {}, accepts "
                "every request it would",
                describe(j), describe(i), where));
          }
        }
      }
    }
  }

  std::uint32_t new_node() {
    c_->nodes.emplace_back();
    return static_cast<std::uint32_t>(c_->nodes.size() - 1);
  }

  std::uint32_t new_list() {
    lists_.emplace_back();
    return static_cast<std::uint32_t>(lists_.size() - 1);
  }

  // Appends route `id` to the list in `slot`, creating the list when the slot has none.
  void append(std::uint32_t& slot, std::uint32_t id) {
    if (slot == npos) slot = new_list();
    lists_[slot].push_back(id);
  }

  std::uint32_t static_child(std::uint32_t node, std::string_view segment) {
    std::uint32_t next = static_cast<std::uint32_t>(c_->nodes.size());
    std::uint32_t child = c_->paths.insert(node, segment, next);
    if (child == next) {
      new_node();
      ++c_->nodes[node].static_children;
      children_.resize(c_->nodes.size());
      children_[node].emplace_back(segment, child);
    }
    return child;
  }

  // Lays out the children of nodes with few of them side by side, in insertion order.
  void fill_small_edges() {
    for (std::size_t node = 0; node < children_.size(); ++node) {
      const auto& children = children_[node];
      if (children.empty() || children.size() > compiled::max_small_edges) continue;
      c_->nodes[node].first_small_edge = static_cast<std::uint32_t>(c_->small_edges.size());
      for (const auto& [segment, child] : children) {
        compiled::small_edge e;
        e.head = detail::key_head(segment);
        e.length = static_cast<std::uint32_t>(segment.size());
        e.child = child;
        e.tail_offset = static_cast<std::uint32_t>(c_->small_tails.size());
        if (segment.size() > 8) c_->small_tails.append(segment.substr(8));
        c_->small_edges.push_back(e);
      }
    }
  }

  std::uint32_t tier_for(const detail::host_key& host) {
    auto [it, inserted] = tiers_.emplace(std::pair{static_cast<int>(host.type), host.text},
                                         static_cast<std::uint32_t>(c_->tiers.size()));
    if (!inserted) return it->second;
    const std::uint32_t t = it->second;
    c_->tiers.emplace_back();
    switch (host.type) {
      case detail::host_key::kind::any:
        c_->default_tier = t;
        break;
      case detail::host_key::kind::exact:
        c_->hosts.insert(compiled::exact_host_scope, host.text, t);
        c_->has_exact_hosts = true;
        c_->exact_host_lengths.set(host.text.size());
        break;
      case detail::host_key::kind::wildcard:
        c_->hosts.insert(compiled::wildcard_scope, host.text, t);
        c_->has_wildcards = true;
        c_->wildcard_lengths.set(host.text.size());
        break;
    }
    return t;
  }

  void compile(std::uint32_t id) {
    route& r = c_->routes[id];
    analysis& a = analyses_[id];
    const std::uint32_t t = tier_for(a.host);

    compiled::route_info info;
    for (std::size_t k = 0; k < r.match.headers.size(); ++k) {
      const header_matcher& h = r.match.headers[k];
      info.headers.push_back({h.name, h.match, h.value, a.header_regexes[k].get()});
      if (a.header_regexes[k]) c_->regexes.push_back(std::move(a.header_regexes[k]));
    }
    for (const query_matcher& q : r.match.query) info.query.push_back({q.name, q.match, q.value});

    switch (a.kind) {
      case path_kind::exact: {
        c_->tiers[t].has_exact = true;
        std::string_view path =
            std::holds_alternative<path_exact>(r.match.path)
                ? std::string_view{std::get<path_exact>(r.match.path).path}
                : std::string_view{std::get<path_template>(r.match.path).pattern};
        std::uint32_t list = c_->paths.insert(compiled::exact_scope(t), path,
                                              static_cast<std::uint32_t>(lists_.size()));
        if (list == lists_.size()) new_list();
        lists_[list].push_back(id);
        exact_hashes_.push_back(detail::hash_key(compiled::exact_scope(t), path));
        break;
      }
      case path_kind::template_: {
        if (c_->tiers[t].template_root == npos) c_->tiers[t].template_root = new_node();
        std::uint32_t node = c_->tiers[t].template_root;
        std::size_t params = 0;
        bool caught_all = false;
        for (const detail::template_segment& s : a.segments) {
          switch (s.type) {
            case detail::template_segment::kind::literal:
              node = static_child(node, s.text);
              break;
            case detail::template_segment::kind::param:
              if (c_->nodes[node].param_child == npos) {
                std::uint32_t child = new_node();
                c_->nodes[node].param_child = child;
              }
              node = c_->nodes[node].param_child;
              info.params[params++] = s.text;
              break;
            case detail::template_segment::kind::catch_all:
              info.params[params++] = s.text;
              append(c_->nodes[node].catch_all, id);
              caught_all = true;
              break;
          }
        }
        if (!caught_all) append(c_->nodes[node].terminal, id);
        break;
      }
      case path_kind::prefix: {
        if (c_->tiers[t].prefix_root == npos) c_->tiers[t].prefix_root = new_node();
        std::uint32_t node = c_->tiers[t].prefix_root;
        std::string_view prefix = a.shape;
        if (prefix != "/") {
          prefix.remove_prefix(1);
          for (;;) {
            auto slash = prefix.find('/');
            node = static_child(node, prefix.substr(0, slash));
            if (slash == std::string_view::npos) break;
            prefix.remove_prefix(slash + 1);
          }
        }
        append(c_->nodes[node].terminal, id);
        break;
      }
      case path_kind::regex: {
        info.path_regex = a.path_regex.get();
        for (const auto& [index, name] : a.path_regex->CapturingGroupNames()) {
          info.group_names.emplace_back(index, name);
          info.submatches = std::max(info.submatches, index + 1);
        }
        c_->regexes.push_back(std::move(a.path_regex));
        append(c_->tiers[t].regexes, id);
        break;
      }
    }
    c_->info.push_back(std::move(info));
  }

  void flatten_lists() {
    for (const std::vector<std::uint32_t>& list : lists_) {
      compiled::span s;
      s.begin = static_cast<std::uint32_t>(c_->list_items.size());
      for (std::uint32_t id : list) {
        const route_match& m = c_->routes[id].match;
        c_->list_items.push_back({m.methods, id, !m.headers.empty() || !m.query.empty()});
      }
      s.end = static_cast<std::uint32_t>(c_->list_items.size());
      c_->lists.push_back(s);
    }
  }

  void fill_exact_filter() {
    // About 16 bits per exact path: a false positive costs one probe, about 1 time in 16.
    std::size_t bits = 64;
    while (bits < exact_hashes_.size() * 16) bits *= 2;
    c_->exact_filter.assign(bits / 64, 0);
    c_->exact_filter_mask = bits - 1;
    for (std::uint64_t h : exact_hashes_) {
      const std::uint64_t bit = compiled::filter_bit(h) & c_->exact_filter_mask;
      c_->exact_filter[bit >> 6] |= std::uint64_t{1} << (bit & 63);
    }
  }

  std::shared_ptr<compiled> c_;
  std::vector<analysis> analyses_;
  std::vector<std::string> errors_;
  std::vector<std::vector<std::uint32_t>> lists_;
  std::vector<std::uint64_t> exact_hashes_;
  // Each node's literal children as (segment, child), while building. The segments view the
  // routes' patterns or analyses_, both alive until the table is built.
  std::vector<std::vector<std::pair<std::string_view, std::uint32_t>>> children_;
  std::map<std::pair<int, std::string>, std::uint32_t> tiers_;
};

}  // namespace

route_table::builder& route_table::builder::add(route r) {
  routes_.push_back(std::move(r));
  return *this;
}

route_table route_table::builder::build() && {
  return route_table{table_compiler{std::move(routes_)}.run()};
}

}  // namespace gantry::route
