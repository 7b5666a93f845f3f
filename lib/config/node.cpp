#include "gantry/config/node.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <span>

#include "node_state.hpp"
#include "values.hpp"

namespace gantry::config {

using detail::node_access;
using detail::node_state;
using detail::quote;

namespace {

std::string child_path(const std::string& parent, std::string_view key) {
  std::string path;
  path.reserve(parent.size() + 1 + key.size());
  path.append(parent);
  if (!parent.empty()) path.append(".");
  path.append(key);
  return path;
}

std::string item_path(const std::string& parent, std::size_t index) {
  std::string path = parent;
  path.append(fmt::format("[{}]", index));
  return path;
}

// What a node is, for "expected X, got Y".
std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return quote(n.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "null";
  }
}

void report_at(const node_state& s, const YAML::Mark& mark, std::string path, std::string message) {
  const bool known = mark.line >= 0;
  s.context->report(known ? mark.line : s.line, known ? mark.column : s.column, std::move(path),
                    std::move(message));
}

// The scalar text of `n`, reporting "expected <what>" for anything else.
const std::string* scalar(const node& n, const node_state& s, std::string_view what) {
  if (!s.present) return nullptr;
  if (s.yaml.IsScalar()) return &s.yaml.Scalar();
  n.fail(fmt::format("expected {}, got {}", what, describe(s.yaml)));
  return nullptr;
}

std::string range_text(std::int64_t min, std::int64_t max) {
  if (min == std::numeric_limits<std::int64_t>::min()) return fmt::format("at most {}", max);
  if (max == std::numeric_limits<std::int64_t>::max()) return fmt::format("at least {}", min);
  return fmt::format("from {} to {}", min, max);
}

// Calls `f(name, key, value)` once per field of the map in `s`, in document order,
// reporting keys that are not strings and names given twice (whose later values are skipped).
template <class F>
void for_each_field(const node_state& s, F&& f) {
  std::map<std::string_view, int> first_line;
  for (const YAML::detail::iterator_value& entry : s.yaml) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      report_at(s, key.Mark(), s.path,
                fmt::format("a field name must be a string, got {}", describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    auto [first, inserted] = first_line.emplace(name, key.Mark().line + 1);
    if (!inserted) {
      report_at(s, key.Mark(), child_path(s.path, name),
                fmt::format("given twice (first on line {})", first->second));
      continue;
    }
    f(name, key, entry.second);
  }
}

}  // namespace

namespace detail {

node node_access::root(std::shared_ptr<load_context> context, const YAML::Node& document) {
  auto s = std::make_shared<node_state>();
  s->context = std::move(context);
  s->yaml = document;
  s->present = true;
  const YAML::Mark mark = document.Mark();
  if (mark.line >= 0) {
    s->line = mark.line;
    s->column = mark.column;
  }
  return node{std::move(s)};
}

node node_access::child(const node& parent, std::string path, const YAML::Node* key,
                        const YAML::Node& value) {
  const node_state& p = *parent.state_;
  p.context->spend(1);
  auto s = std::make_shared<node_state>();
  s->context = p.context;
  s->yaml = value;
  s->present = true;
  s->path = std::move(path);
  s->line = p.line;
  s->column = p.column;
  YAML::Mark mark = value.Mark();
  // An empty value's mark is wherever the parser went next (often the next line): the key
  // is where a person looks.
  if ((value.IsNull() || mark.line < 0) && key) mark = key->Mark();
  if (mark.line >= 0) {
    s->line = mark.line;
    s->column = mark.column;
  }
  return node{std::move(s)};
}

node node_access::missing(const node& parent, std::string path) {
  const node_state& p = *parent.state_;
  p.context->spend(1);
  auto s = std::make_shared<node_state>();
  s->context = p.context;
  s->path = std::move(path);
  s->line = p.line;
  s->column = p.column;
  return node{std::move(s)};
}

node node_access::find(const node& n, std::string_view field) {
  node at = n;
  std::size_t i = 0;
  while (i < field.size()) {
    if (field[i] == '.') {
      ++i;
    } else if (field[i] == '[') {
      const auto close = field.find(']', i);
      if (close == std::string_view::npos) break;
      auto number = parse_integer(field.substr(i + 1, close - i - 1));
      if (!number || number->negative) break;
      const node_state& s = *at.state_;
      if (!s.present || !(s.yaml.IsSequence() || s.yaml.IsMap()) ||
          number->magnitude >= s.yaml.size())
        break;
      // Dereferencing gives a value: yaml-cpp's operator-> points into a temporary.
      const YAML::detail::iterator_value entry =
          *std::next(s.yaml.begin(), static_cast<std::ptrdiff_t>(number->magnitude));
      std::string path = item_path(s.path, static_cast<std::size_t>(number->magnitude));
      at = s.yaml.IsMap() ? child(at, std::move(path), &entry.first, entry.second)
                          : child(at, std::move(path), nullptr, entry);
      i = close + 1;
    } else {
      const auto end = field.find_first_of(".[", i);
      node next = at[field.substr(i, end == std::string_view::npos ? end : end - i)];
      if (!next.present()) break;
      at = std::move(next);
      i = end == std::string_view::npos ? field.size() : end;
    }
  }
  return at;
}

}  // namespace detail

const std::string& node::path() const noexcept { return state_->path; }
int node::line() const noexcept { return state_->line + 1; }
int node::column() const noexcept { return state_->column + 1; }

bool node::present() const noexcept { return state_->present; }
bool node::is_null() const noexcept { return state_->present && state_->yaml.IsNull(); }
bool node::is_scalar() const noexcept { return state_->present && state_->yaml.IsScalar(); }
bool node::is_list() const noexcept { return state_->present && state_->yaml.IsSequence(); }
bool node::is_map() const noexcept { return state_->present && state_->yaml.IsMap(); }

bool node::expect_map(std::initializer_list<std::string_view> known) const {
  const node_state& s = *state_;
  if (!s.present) return false;
  if (s.yaml.IsNull()) return true;
  if (!s.yaml.IsMap()) {
    fail(fmt::format("expected a map, got {}", describe(s.yaml)));
    return false;
  }
  s.context->spend(s.yaml.size());
  const std::span<const std::string_view> fields{known.begin(), known.size()};
  for_each_field(s, [&](const std::string& name, const YAML::Node& key, const YAML::Node&) {
    if (std::find(known.begin(), known.end(), name) != known.end()) return;
    std::string hint = detail::suggestion(name, fields);
    if (hint.empty())
      hint = fields.empty()
                 ? std::string{"; there are no fields here"}
                 : fmt::format("; the fields here are {}", detail::join_choices(fields, "and"));
    report_at(s, key.Mark(), child_path(s.path, name),
              fmt::format("unknown field {}{}", quote(name), hint));
  });
  return true;
}

node node::operator[](std::string_view key) const {
  const node_state& s = *state_;
  std::string path = child_path(s.path, key);
  if (s.present && s.yaml.IsMap()) {
    s.context->spend(s.yaml.size());
    for (const YAML::detail::iterator_value& entry : s.yaml)
      if (entry.first.IsScalar() && entry.first.Scalar() == key)
        return node_access::child(*this, std::move(path), &entry.first, entry.second);
  }
  return node_access::missing(*this, std::move(path));
}

node node::required(std::string_view key) const {
  node n = (*this)[key];
  if (!n.present() && (is_map() || is_null())) n.fail("required field is missing");
  return n;
}

std::vector<std::pair<std::string, node>> node::entries() const {
  std::vector<std::pair<std::string, node>> out;
  const node_state& s = *state_;
  if (!s.present || s.yaml.IsNull()) return out;
  if (!s.yaml.IsMap()) {
    fail(fmt::format("expected a map, got {}", describe(s.yaml)));
    return out;
  }
  for_each_field(s, [&](const std::string& name, const YAML::Node& key, const YAML::Node& value) {
    out.emplace_back(name, node_access::child(*this, child_path(s.path, name), &key, value));
  });
  return out;
}

std::vector<node> node::items() const {
  std::vector<node> out;
  const node_state& s = *state_;
  if (!s.present || s.yaml.IsNull()) return out;
  if (!s.yaml.IsSequence()) {
    fail(fmt::format("expected a list, got {}", describe(s.yaml)));
    return out;
  }
  out.reserve(s.yaml.size());
  std::size_t index = 0;
  for (const YAML::detail::iterator_value& item : s.yaml)
    out.push_back(node_access::child(*this, item_path(s.path, index++), nullptr, item));
  return out;
}

std::optional<std::string_view> node::one_of(std::initializer_list<std::string_view> choices,
                                             bool required) const {
  const node_state& s = *state_;
  const std::span<const std::string_view> all{choices.begin(), choices.size()};
  if (!s.present || !(s.yaml.IsMap() || s.yaml.IsNull())) return std::nullopt;
  std::optional<std::string_view> found;
  if (s.yaml.IsMap()) {
    s.context->spend(s.yaml.size());
    for (const YAML::detail::iterator_value& entry : s.yaml) {
      if (!entry.first.IsScalar()) continue;
      const std::string& name = entry.first.Scalar();
      auto choice = std::find(choices.begin(), choices.end(), name);
      if (choice == choices.end()) continue;
      if (!found) {
        found = *choice;
        continue;
      }
      if (*found == *choice) continue;  // a repeated key: expect_map reports it
      report_at(s, entry.first.Mark(), child_path(s.path, name),
                fmt::format("give only one of {}; {} is given already", detail::join_choices(all),
                            quote(*found)));
      return std::nullopt;
    }
  }
  if (found || !required) return found;
  // A misspelt choice is reported by expect_map, with the choice it is close to.
  if (s.yaml.IsMap()) {
    for (const YAML::detail::iterator_value& entry : s.yaml)
      if (entry.first.IsScalar() && detail::closest(entry.first.Scalar(), all)) return found;
  }
  fail(fmt::format("give one of {}", detail::join_choices(all)));
  return found;
}

std::optional<std::string> node::as_string() const {
  if (const std::string* text = scalar(*this, *state_, "a string")) return *text;
  return std::nullopt;
}

std::optional<bool> node::as_bool() const {
  const std::string* text = scalar(*this, *state_, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  fail(fmt::format("expected true or false, got {}", quote(*text)));
  return std::nullopt;
}

std::optional<std::int64_t> node::as_integer(std::int64_t min, std::int64_t max) const {
  const std::string* text = scalar(*this, *state_, "an integer");
  if (!text) return std::nullopt;
  auto parsed = detail::parse_integer(*text);
  if (!parsed) {
    fail(fmt::format("expected an integer, got {}", quote(*text)));
    return std::nullopt;
  }
  constexpr auto top = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::optional<std::int64_t> value;
  if (!parsed->negative && parsed->magnitude <= top)
    value = static_cast<std::int64_t>(parsed->magnitude);
  else if (parsed->negative && parsed->magnitude <= top)
    value = -static_cast<std::int64_t>(parsed->magnitude);
  else if (parsed->negative && parsed->magnitude == top + 1)
    value = std::numeric_limits<std::int64_t>::min();
  if (!value || *value < min || *value > max) {
    fail(fmt::format("must be {}, got {}", range_text(min, max), *text));
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> node::as_unsigned(std::uint64_t max) const {
  const std::string* text = scalar(*this, *state_, "an integer");
  if (!text) return std::nullopt;
  auto parsed = detail::parse_integer(*text);
  if (!parsed) {
    fail(fmt::format("expected an integer, got {}", quote(*text)));
    return std::nullopt;
  }
  if ((parsed->negative && parsed->magnitude != 0) || parsed->magnitude > max) {
    fail(max == std::numeric_limits<std::uint64_t>::max()
             ? fmt::format("must be at least 0, got {}", *text)
             : fmt::format("must be from 0 to {}, got {}", max, *text));
    return std::nullopt;
  }
  return parsed->magnitude;
}

std::optional<std::chrono::milliseconds> node::as_duration() const {
  const std::string* text = scalar(*this, *state_, "a duration");
  if (!text) return std::nullopt;
  if (auto d = detail::parse_duration(*text)) return d;
  if (detail::parse_integer(*text))
    fail(fmt::format("bad duration {}: give it a unit: ms, s, m or h (e.g. {}s)", quote(*text),
                     *text));
  else
    fail(
        fmt::format("bad duration {}: write whole numbers with units ms, s, m or h, e.g. 250ms, "
                    "10s, 1m30s",
                    quote(*text)));
  return std::nullopt;
}

std::optional<std::uint64_t> node::as_byte_size() const {
  const std::string* text = scalar(*this, *state_, "a byte size");
  if (!text) return std::nullopt;
  if (auto size = detail::parse_byte_size(*text)) return size;
  fail(
      fmt::format("bad byte size {}: write a whole number of bytes, optionally with a unit "
                  "(KiB, MiB, GiB, KB, MB, GB), e.g. 64KiB",
                  quote(*text)));
  return std::nullopt;
}

std::optional<std::vector<std::string>> node::as_strings() const {
  const node_state& s = *state_;
  if (!s.present) return std::nullopt;
  if (!s.yaml.IsNull() && !s.yaml.IsSequence()) {
    fail(fmt::format("expected a list, got {}", describe(s.yaml)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const node& item : items()) {
    if (auto text = item.as_string())
      out.push_back(std::move(*text));
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

void node::fail(std::string_view message) const {
  state_->context->report(state_->line, state_->column, state_->path, std::string{message});
}

namespace {

// The path of `field` below the node at `path`.
std::string path_of(const std::string& path, std::string_view field) {
  if (!field.starts_with('[')) return child_path(path, field);
  std::string out = path;
  out.append(field);
  return out;
}

}  // namespace

void node::fail_at(std::string_view field, std::string_view message) const {
  node at = node_access::find(*this, field);
  state_->context->report(at.state_->line, at.state_->column, path_of(state_->path, field),
                          std::string{message});
}

void node::warn_at(std::string_view field, std::string_view message) const {
  node at = node_access::find(*this, field);
  state_->context->warn(at.state_->line, at.state_->column, path_of(state_->path, field),
                        std::string{message});
}

}  // namespace gantry::config
