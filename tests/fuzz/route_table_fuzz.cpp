// Fuzz target: route::route_table, built from routes decoded from the input and matched
// against request paths decoded from it, checked against a naive reference matcher written
// from the precedence rules route_table.hpp documents.
//
// Input layout (every byte string is a valid input; past its end bytes read as zero):
//   byte 0        bits 0-2: number of routes - 1 (1 to 8)
//   per route     byte k: bits 0-1 path kind (exact, prefix, template, template);
//                         bits 2-4 host (route_hosts); bits 5-7 methods (GET, POST, HEAD
//                         bits; none means any method)
//                 byte s: bits 0-2 segment count; bit 7 makes a "free" route: its pattern
//                         is the next (byte % 32) bytes as they are, its kind bits 0-1 of k
//                         with 3 meaning a regex, and the reference is not consulted
//                 per segment (modelled routes) one byte: bits 0-1 segment kind in a
//                         template (literal, literal, {param}, {*rest}; a {*rest} that is
//                         not last is a {param}), bits 2-4 the literal (literals), bits 5-7
//                         the parameter's name (a letter, then its position)
//   then requests, up to 16: byte r: bits 0-2 host (request_hosts), bits 3-4 method
//                         (GET, POST, HEAD, PUT), bits 5-7 segment count; a count of 0 takes
//                         one more byte choosing among odd_paths; per segment one byte whose
//                         bits 0-3 choose among request_segments
//
// Segments come from a small alphabet so that routes collide and compete often. Invariants:
// - build() either succeeds or throws std::invalid_argument, nothing else; for modelled
//   routes it throws exactly when two routes of one host and one path pattern (parameter
//   names aside) are such that the first accepts every method the second does (a conflict
//   or a route that can never be chosen);
// - matching is deterministic: the same request twice, and through a copy of the table,
//   gives the same route and captures; a chosen route accepts the request's method;
// - with only modelled routes, the route chosen and the captures (names, values, and views
//   into the request path at the right place) equal the reference's: hosts exact, then
//   wildcard longest first, then any host, falling through; within a host exact paths, then
//   templates (at the first segment where two differ, literal beats {param} beats {*rest}),
//   then prefixes (most segments first); then declared order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "fuzz_support.hpp"
#include "gantry/route/route_table.hpp"

namespace {

using gantry::http::method;
namespace route = gantry::route;

constexpr std::string_view route_hosts[] = {
    "",
    "*",
    "a.example.com",
    "A.Example.COM.",
    "*.example.com",
    "*.EXAMPLE.com.",
    "b.example.com",
    "*.a.example.com",
};
constexpr std::string_view request_hosts[] = {
    "",
    "a.example.com",
    "A.EXAMPLE.COM.",
    "b.example.com",
    "x.a.example.com",
    "example.com",
    ".example.com",
    "c.example.com",
};
// The literals routes are written with: short and long ones (past the 8 bytes a trie edge
// keeps inline, differing only after them), an empty one, and one differing only in case.
constexpr std::string_view literals[] = {
    "a", "b", "ab", "", "abcdefghij", "abcdefghik", "A", "users",
};
// What requests are made of: the literals above, and some no route uses.
constexpr std::string_view request_segments[] = {
    "a", "b",     "ab",  "",          "abcdefghij", "abcdefghik", "A", "users",
    "c", "a%2Fb", "{x}", "abcdefghi", "aa",         "ba",         "7", "abcdefghijk",
};
constexpr std::string_view odd_paths[] = {"", "*", "/", "//"};
constexpr method request_methods[] = {method::get, method::post, method::head, method::put};

enum class kind : std::uint8_t { exact, prefix, template_ };

struct segment {
  enum class type : std::uint8_t { literal, param, catch_all };
  type what = type::literal;
  std::string text;  // the literal, or the parameter's name
};

// A route as the reference sees it. Host keys and shapes are computed here, from the
// documentation, independently of lib/route.
struct model_route {
  kind path_kind = kind::exact;
  std::vector<segment> segments;
  std::string pattern;  // as given to the builder
  bool has_params = false;
  int host_type = 0;  // 0 any, 1 exact, 2 wildcard
  std::string host;   // lower-case, without a trailing dot; a wildcard's suffix keeps its '.'
  std::uint64_t methods = 0;  // bit per method; 0 = any
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string folded(std::string_view host) {
  std::string out;
  for (char c : host) out.push_back(lower(c));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

void set_host(model_route& m, std::string_view host) {
  if (host.empty() || host == "*") {
    m.host_type = 0;
  } else if (host.starts_with("*.")) {
    m.host_type = 2;
    m.host = folded(host.substr(1));
  } else {
    m.host_type = 1;
    m.host = folded(host);
  }
}

std::uint64_t method_bit(method m) { return std::uint64_t{1} << static_cast<unsigned>(m); }

bool accepts(std::uint64_t methods, method m) { return methods == 0 || (methods & method_bit(m)); }

// `a` accepts every method `b` does.
bool includes(std::uint64_t a, std::uint64_t b) { return a == 0 || (b != 0 && (b & ~a) == 0); }

// How routes rank against each other for one request: the documented precedence, as a key
// compared lexicographically (smaller wins).
struct rank {
  int path_class = 0;             // exact 0, template 1, prefix 2
  std::vector<int> kinds;         // templates: 0 literal, 1 {param}, 2 {*rest}, per segment
  int minus_prefix_segments = 0;  // prefixes: more segments first
  std::size_t declared = 0;

  bool operator<(const rank& o) const {
    if (path_class != o.path_class) return path_class < o.path_class;
    if (kinds != o.kinds) return kinds < o.kinds;
    if (minus_prefix_segments != o.minus_prefix_segments)
      return minus_prefix_segments < o.minus_prefix_segments;
    return declared < o.declared;
  }
};

struct expected_capture {
  std::string name;
  std::size_t offset = 0;  // into the request path
  std::size_t length = 0;
};

// The segments of `path` after its leading '/', with where each starts.
std::vector<std::pair<std::size_t, std::string_view>> split_path(std::string_view path) {
  std::vector<std::pair<std::size_t, std::string_view>> out;
  std::size_t at = 1;
  for (;;) {
    const std::size_t slash = path.find('/', at);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    out.emplace_back(at, path.substr(at, end - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  return out;
}

// Whether `m` matches `path`, and how it ranks and what it captures when it does.
std::optional<rank> reference_match(const model_route& m, std::string_view path,
                                    std::vector<expected_capture>& caps) {
  caps.clear();
  rank r;
  const bool exact_like =
      m.path_kind == kind::exact || (m.path_kind == kind::template_ && !m.has_params);
  if (exact_like) {
    if (path != m.pattern) return std::nullopt;
    r.path_class = 0;
    return r;
  }
  if (!path.starts_with('/')) return std::nullopt;
  if (m.path_kind == kind::prefix) {
    // A trailing '/' of the prefix is ignored; "/" is every path.
    std::string_view prefix = m.pattern;
    if (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
    int count = 0;
    if (prefix != "/") {
      if (!path.starts_with(prefix) || (path.size() != prefix.size() && path[prefix.size()] != '/'))
        return std::nullopt;
      count = static_cast<int>(std::count(prefix.begin(), prefix.end(), '/'));
    }
    r.path_class = 2;
    r.minus_prefix_segments = -count;
    return r;
  }
  const auto parts = split_path(path);
  r.path_class = 1;
  for (std::size_t i = 0; i < m.segments.size(); ++i) {
    const segment& s = m.segments[i];
    if (i >= parts.size()) return std::nullopt;
    const auto [offset, text] = parts[i];
    switch (s.what) {
      case segment::type::literal:
        if (text != s.text) return std::nullopt;
        r.kinds.push_back(0);
        break;
      case segment::type::param:
        if (text.empty()) return std::nullopt;
        caps.push_back({s.text, offset, text.size()});
        r.kinds.push_back(1);
        break;
      case segment::type::catch_all:
        caps.push_back({s.text, offset, path.size() - offset});
        r.kinds.push_back(2);
        return r;
    }
  }
  if (parts.size() != m.segments.size()) return std::nullopt;
  return r;
}

// The index of the route the documented precedence chooses, or nothing.
std::optional<std::size_t> reference_choose(const std::vector<model_route>& routes,
                                            std::string_view request_host, method verb,
                                            std::string_view path,
                                            std::vector<expected_capture>& caps) {
  // Tiers in the order they are tried: the exact host, wildcards from the longest suffix,
  // then any host. A tier without a match falls through to the next.
  std::vector<std::pair<int, std::string>> tiers;
  const std::string host = folded(request_host);
  if (!host.empty()) {
    tiers.emplace_back(1, host);
    std::vector<std::string> suffixes;
    for (const model_route& m : routes)
      if (m.host_type == 2 && host.size() > m.host.size() && host.ends_with(m.host))
        suffixes.push_back(m.host);
    std::sort(suffixes.begin(), suffixes.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    suffixes.erase(std::unique(suffixes.begin(), suffixes.end()), suffixes.end());
    for (std::string& s : suffixes) tiers.emplace_back(2, std::move(s));
  }
  tiers.emplace_back(0, std::string{});
  for (const auto& [type, key] : tiers) {
    std::optional<std::size_t> best;
    rank best_rank;
    std::vector<expected_capture> these;
    for (std::size_t i = 0; i < routes.size(); ++i) {
      const model_route& m = routes[i];
      if (m.host_type != type || m.host != key || !accepts(m.methods, verb)) continue;
      auto r = reference_match(m, path, these);
      if (!r) continue;
      r->declared = i;
      if (!best || *r < best_rank) {
        best = i;
        best_rank = *r;
        caps = these;
      }
    }
    if (best) return best;
  }
  caps.clear();
  return std::nullopt;
}

// What build() must refuse among modelled routes: two with the same host and path pattern
// (parameter names aside) where the first accepts every method the second does.
bool reference_rejects(const std::vector<model_route>& routes) {
  auto shape = [](const model_route& m) {
    std::string s;
    if (m.path_kind == kind::prefix) {
      std::string_view p = m.pattern;
      if (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
      s = ">" + std::string{p};
    } else if (m.path_kind == kind::exact || !m.has_params) {
      s = "=" + m.pattern;  // a template without parameters is an exact path
    } else {
      s = "~";
      for (const segment& seg : m.segments) {
        s += '/';
        s += seg.what == segment::type::literal ? seg.text
             : seg.what == segment::type::param ? "{}"
                                                : "{*}";
      }
    }
    return s;
  };
  for (std::size_t i = 0; i < routes.size(); ++i)
    for (std::size_t j = i + 1; j < routes.size(); ++j)
      if (routes[i].host_type == routes[j].host_type && routes[i].host == routes[j].host &&
          shape(routes[i]) == shape(routes[j]) && includes(routes[i].methods, routes[j].methods))
        return true;
  return false;
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string path;
  for (const std::string& p : parts) {
    path += '/';
    path += p;
  }
  return path.empty() ? "/" : path;
}

struct decoded {
  std::vector<route::route> routes;
  std::vector<model_route> models;
  bool modelled = true;  // no free route
};

decoded decode_routes(gantry::fuzz::input_reader& in) {
  decoded out;
  const std::size_t count = 1 + (in.byte() & 7u);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t k = in.byte();
    const std::uint8_t s = in.byte();
    model_route m;
    route::route r;
    r.name = "r" + std::to_string(i);
    r.action = route::proxy{"c"};
    r.match.host = std::string{route_hosts[(k >> 2) & 7u]};
    set_host(m, r.match.host);
    const method verbs[] = {method::get, method::post, method::head};
    for (unsigned b = 0; b < 3; ++b) {
      if ((k >> (5 + b)) & 1u) {
        r.match.methods.insert(verbs[b]);
        m.methods |= method_bit(verbs[b]);
      }
    }
    if (s & 0x80u) {
      // A free route: any text, any kind, regexes included; only the invariants that hold
      // for every table are checked.
      out.modelled = false;
      const std::string text{in.take(in.byte() % 32)};
      switch (k & 3u) {
        case 0:
          r.match.path = route::path_exact{text};
          break;
        case 1:
          r.match.path = route::path_prefix{text};
          break;
        case 2:
          r.match.path = route::path_template{text};
          break;
        default:
          r.match.path = route::path_regex{text};
          break;
      }
      out.routes.push_back(std::move(r));
      out.models.push_back(std::move(m));
      continue;
    }
    const unsigned n = s & 7u;
    m.path_kind = (k & 3u) == 0 ? kind::exact : (k & 3u) == 1 ? kind::prefix : kind::template_;
    std::vector<std::string> written;
    for (unsigned j = 0; j < n; ++j) {
      const std::uint8_t g = in.byte();
      segment seg;
      seg.text = std::string{literals[(g >> 2) & 7u]};
      if (m.path_kind == kind::template_ && (g & 3u) >= 2) {
        seg.what = (g & 3u) == 3 && j + 1 == n ? segment::type::catch_all : segment::type::param;
        seg.text = std::string(1, "xyzwvuts"[(g >> 5) & 7u]) + std::to_string(j);
        m.has_params = true;
        written.push_back((seg.what == segment::type::catch_all ? "{*" : "{") + seg.text + "}");
      } else {
        written.push_back(seg.text);
      }
      m.segments.push_back(std::move(seg));
    }
    m.pattern = join_path(written);
    if (m.segments.empty()) m.segments.push_back({segment::type::literal, ""});  // "/"
    switch (m.path_kind) {
      case kind::exact:
        r.match.path = route::path_exact{m.pattern};
        break;
      case kind::prefix:
        r.match.path = route::path_prefix{m.pattern};
        break;
      case kind::template_:
        r.match.path = route::path_template{m.pattern};
        break;
    }
    out.routes.push_back(std::move(r));
    out.models.push_back(std::move(m));
  }
  return out;
}

std::string describe(const decoded& d, std::string_view host, method verb, std::string_view path) {
  std::string text = "routes:";
  for (const route::route& r : d.routes) {
    text += "\n  " + r.name + " host '" + r.match.host + "' methods " +
            std::to_string(r.match.methods.bits()) + " ";
    std::visit(
        [&](const auto& p) {
          using T = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<T, route::path_exact>) text += "exact '" + p.path + "'";
          if constexpr (std::is_same_v<T, route::path_prefix>) text += "prefix '" + p.prefix + "'";
          if constexpr (std::is_same_v<T, route::path_template>)
            text += "template '" + p.pattern + "'";
          if constexpr (std::is_same_v<T, route::path_regex>) text += "regex '" + p.pattern + "'";
        },
        r.match.path);
  }
  text += "\nrequest: host '" + std::string{host} + "' method " +
          std::to_string(static_cast<unsigned>(verb)) + " path '" + std::string{path} + "'";
  return text;
}

bool same_captures(const route::captures& a, const route::captures& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].value.data() != b[i].value.data() ||
        a[i].value.size() != b[i].value.size())
      return false;
  return true;
}

// build()'s message lists one problem per line, each naming its route (or both routes);
// several are preceded by a line that counts them.
void check_problems(std::string_view message) {
  GANTRY_FUZZ_CHECK(!message.empty());
  std::size_t lines = 0, problems = 0;
  for (std::size_t at = 0; at <= message.size(); ++lines) {
    const std::size_t end = std::min(message.find('\n', at), message.size());
    const std::string_view line = message.substr(at, end - at);
    at = end + 1;
    if (lines == 0 && line.ends_with(" problems in the route table:")) {
      problems = static_cast<std::size_t>(std::stoul(std::string{line}));
      continue;
    }
    GANTRY_FUZZ_CHECK(line.starts_with("route 'r") || line.starts_with("routes 'r") ||
                          line.starts_with("routes #"),
                      message);
  }
  GANTRY_FUZZ_CHECK(problems == 0 ? lines == 1 : problems >= 2 && lines == problems + 1, message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gantry::fuzz::input_reader in{data, size};
  const decoded d = decode_routes(in);

  route::route_table table;
  bool built = false;
  {
    route::route_table::builder b;
    for (const route::route& r : d.routes) b.add(r);
    try {
      table = std::move(b).build();
      built = true;
    } catch (const std::invalid_argument& e) {
      check_problems(e.what());
    } catch (const std::exception& e) {
      gantry::fuzz::fail(__FILE__, __LINE__, "build() threw something else", e.what());
    } catch (...) {
      gantry::fuzz::fail(__FILE__, __LINE__, "build() threw a non-exception");
    }
  }
  if (d.modelled)
    GANTRY_FUZZ_CHECK(built != reference_rejects(d.models),
                      describe(d, "", method::get, built ? "(built)" : "(rejected)"));
  if (!built) return 0;
  GANTRY_FUZZ_CHECK(table.size() == d.routes.size());
  const route::route_table copy = table;

  for (int n = 0; n < 16 && !in.empty(); ++n) {
    const std::uint8_t r = in.byte();
    const std::string_view host = request_hosts[r & 7u];
    const method verb = request_methods[(r >> 3) & 3u];
    const unsigned count = r >> 5;
    std::string path;
    if (count == 0) {
      path = std::string{odd_paths[in.byte() & 3u]};
    } else {
      std::vector<std::string> parts;
      for (unsigned j = 0; j < count; ++j) parts.emplace_back(request_segments[in.byte() & 15u]);
      path = join_path(parts);
    }
    const route::request_view req{.host = host, .method = verb, .path = path};

    route::captures first, second, third;
    const route::route* chosen = table.match(req, first);
    GANTRY_FUZZ_CHECK(table.match(req, second) == chosen, describe(d, host, verb, path));
    GANTRY_FUZZ_CHECK(copy.match(req, third) == chosen, describe(d, host, verb, path));
    GANTRY_FUZZ_CHECK(same_captures(first, second) && same_captures(first, third),
                      describe(d, host, verb, path));
    if (chosen) {
      GANTRY_FUZZ_CHECK(chosen >= table.routes().data() &&
                        chosen < table.routes().data() + table.size());
      GANTRY_FUZZ_CHECK(chosen->match.methods.contains(verb), describe(d, host, verb, path));
      for (const route::capture& c : first)
        GANTRY_FUZZ_CHECK(c.value.data() >= path.data() &&
                              c.value.data() + c.value.size() <= path.data() + path.size(),
                          describe(d, host, verb, path));
    } else {
      GANTRY_FUZZ_CHECK(first.empty());
    }
    if (!d.modelled) continue;

    std::vector<expected_capture> expected;
    const auto want = reference_choose(d.models, host, verb, path, expected);
    const std::string got = chosen ? chosen->name : "none";
    const std::string wanted = want ? "r" + std::to_string(*want) : "none";
    GANTRY_FUZZ_CHECK(got == wanted,
                      describe(d, host, verb, path) + "\nchosen " + got + ", expected " + wanted);
    GANTRY_FUZZ_CHECK(first.size() == expected.size(), describe(d, host, verb, path));
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const route::capture& c = first[i];
      GANTRY_FUZZ_CHECK(c.name == expected[i].name &&
                            c.value.data() == path.data() + expected[i].offset &&
                            c.value.size() == expected[i].length,
                        describe(d, host, verb, path) + "\ncapture " + std::string{c.name} +
                            " = '" + std::string{c.value} + "'");
    }
  }
  return 0;
}
