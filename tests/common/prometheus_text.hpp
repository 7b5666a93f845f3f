#pragma once
// A strict reader of the Prometheus text exposition format (0.0.4), written from the format's
// description, to read back what metrics_registry::render writes: it checks the syntax of
// every line and returns the samples.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus_text {

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct family {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;
};

struct exposition {
  std::vector<family> families;
  std::vector<sample> samples;
  std::vector<std::string> errors;  // one per malformed line; empty when all is well

  // The value of the one sample called `name` with exactly `labels`, if there is one.
  std::optional<double> value(std::string_view name,
                              const std::map<std::string, std::string>& labels) const {
    std::optional<double> found;
    for (const sample& s : samples) {
      if (s.name != name || s.labels != labels) continue;
      if (found) return std::nullopt;  // duplicates are errors too
      found = s.value;
    }
    return found;
  }
  // The samples called `name`.
  std::vector<sample> named(std::string_view name) const {
    std::vector<sample> out;
    for (const sample& s : samples)
      if (s.name == name) out.push_back(s);
    return out;
  }
};

inline bool is_name_start(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
inline bool is_name_char(char c, bool colon) {
  return is_name_start(c, colon) || (c >= '0' && c <= '9');
}

// Reads a metric (colon allowed) or label name at `i`.
inline std::optional<std::string> read_name(std::string_view line, std::size_t& i, bool colon) {
  if (i >= line.size() || !is_name_start(line[i], colon)) return std::nullopt;
  std::size_t start = i;
  while (i < line.size() && is_name_char(line[i], colon)) ++i;
  return std::string{line.substr(start, i - start)};
}

inline std::optional<double> read_value(std::string_view text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return NAN;
  if (text.empty()) return std::nullopt;
  std::string copy{text};
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  if (copy.find_first_not_of("0123456789.eE+-") != std::string::npos) return std::nullopt;
  return v;
}

// Which family a sample name belongs to, given the family's type.
inline bool belongs(const std::string& sample_name, const family& f) {
  if (sample_name == f.name) return f.type != "histogram";
  if (f.type != "histogram" && f.type != "summary") return false;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"})
    if (sample_name == f.name + std::string{suffix})
      return suffix != "_bucket" || f.type == "histogram";
  return false;
}

inline exposition parse(std::string_view text) {
  exposition out;
  std::set<std::string> declared;
  std::optional<std::string> pending_help_for;  // HELP seen, TYPE expected next
  std::size_t line_no = 0;
  auto fail = [&](std::string_view why, std::string_view line) {
    out.errors.push_back("line " + std::to_string(line_no) + ": " + std::string{why} + ": " +
                         std::string{line});
  };
  if (!text.empty() && text.back() != '\n') out.errors.push_back("no final newline");
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) {
      fail("empty line", line);
      continue;
    }
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      std::size_t i = 7;
      auto name = read_name(line, i, true);
      if (!name || i >= line.size() || line[i] != ' ') {
        fail("bad metadata", line);
        continue;
      }
      std::string rest{line.substr(i + 1)};
      if (line[2] == 'H') {
        if (declared.count(*name)) fail("HELP after the family's samples", line);
        pending_help_for = *name;
        out.families.push_back({*name, "", rest});
      } else {
        static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary",
                                                    "untyped"};
        if (!types.count(rest)) fail("unknown type", line);
        if (pending_help_for != *name) fail("TYPE without HELP just before", line);
        if (!declared.insert(*name).second) fail("family declared twice", line);
        out.families.back().type = rest;
        pending_help_for.reset();
      }
      continue;
    }
    if (line[0] == '#') {
      fail("unexpected comment", line);
      continue;
    }
    sample s;
    std::size_t i = 0;
    auto name = read_name(line, i, true);
    if (!name) {
      fail("bad metric name", line);
      continue;
    }
    s.name = *name;
    bool ok = true;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (ok && i < line.size() && line[i] != '}') {
        auto label = read_name(line, i, false);
        if (!label || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          ok = false;
          break;
        }
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            if (i + 1 >= line.size()) {
              ok = false;
              break;
            }
            char e = line[i + 1];
            if (e == '\\')
              value.push_back('\\');
            else if (e == '"')
              value.push_back('"');
            else if (e == 'n')
              value.push_back('\n');
            else
              ok = false;
            i += 2;
          } else {
            value.push_back(line[i++]);
          }
        }
        if (!ok || i >= line.size()) {
          ok = false;
          break;
        }
        ++i;  // closing quote
        if (!s.labels.emplace(*label, value).second) ok = false;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (!ok || i >= line.size() || line[i] != '}') {
        fail("bad label set", line);
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      fail("no space before the value", line);
      continue;
    }
    auto v = read_value(line.substr(i + 1));
    if (!v) {
      fail("bad value", line);
      continue;
    }
    s.value = *v;
    if (out.families.empty() || !belongs(s.name, out.families.back()))
      fail("sample outside its family", line);
    out.samples.push_back(std::move(s));
  }
  return out;
}

using labels = std::map<std::string, std::string>;

/// `parse(text)`, failing the test on any malformed line.
inline exposition parse_checked(const std::string& text) {
  auto e = parse(text);
  for (const auto& error : e.errors) FAIL_CHECK(error);
  return e;
}

/// The value of the sample `name` with exactly labels `l`; the test stops when there is none.
inline double value_of(const exposition& e, std::string_view name, const labels& l) {
  auto v = e.value(name, l);
  CAPTURE(name);
  REQUIRE(v.has_value());
  return *v;
}

}  // namespace prometheus_text
