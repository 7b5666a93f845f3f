#include "gantry/policy/headers.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

#include "config_errors.hpp"
#include "gantry/core/ascii.hpp"
#include "gantry/http/method.hpp"
#include "gantry/policy/phase.hpp"

namespace gantry::policy {
namespace {

// What one piece of a value template stands for.
enum class source : std::uint8_t {
  literal,
  method,
  path,
  query,
  target,
  host,
  consumer,
  header,
  param
};

struct segment {
  source kind = source::literal;
  std::string text;  // the literal text, the header name, or the param name
};

// A header value with `{placeholders}`, split into pieces when the policy is built.
struct value_template {
  std::vector<segment> segments;

  bool is_literal() const noexcept {
    return segments.empty() || (segments.size() == 1 && segments[0].kind == source::literal);
  }
  std::string_view literal() const noexcept {
    return segments.empty() ? std::string_view{} : std::string_view{segments[0].text};
  }
};

bool is_param_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Classifies the text between braces; empty optional (and `why`) when it names nothing.
std::optional<segment> placeholder(std::string_view name, std::string& why) {
  static constexpr std::pair<std::string_view, source> fields[] = {
      {"method", source::method}, {"path", source::path}, {"query", source::query},
      {"target", source::target}, {"host", source::host}, {"consumer", source::consumer},
  };
  for (auto [field, kind] : fields)
    if (name == field) return segment{kind, {}};
  constexpr std::string_view header_prefix = "header.";
  constexpr std::string_view param_prefix = "param.";
  if (name.starts_with(header_prefix)) {
    auto field = name.substr(header_prefix.size());
    if (!is_field_name(field)) {
      why = "'{" + std::string{name} + "}' does not name a header field";
      return std::nullopt;
    }
    return segment{source::header, std::string{field}};
  }
  if (name.starts_with(param_prefix)) name.remove_prefix(param_prefix.size());
  if (!is_param_name(name)) {
    why = "'{" + std::string{name} +
          "}' is not a placeholder: use method, path, query, target, host, consumer, "
          "header.NAME, param.NAME or a route param name";
    return std::nullopt;
  }
  return segment{source::param, std::string{name}};
}

// Splits `text` into literal pieces and placeholders; empty optional (and `why`) on error.
std::optional<value_template> compile(std::string_view text, std::string& why) {
  value_template t;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) t.segments.push_back({source::literal, std::move(literal)});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal += '}';
      i += 2;
    } else if (c == '{') {
      auto close = text.find('}', i + 1);
      if (close == std::string_view::npos) {
        why = "unclosed '{' (write {{ for a literal brace)";
        return std::nullopt;
      }
      auto p = placeholder(text.substr(i + 1, close - i - 1), why);
      if (!p) return std::nullopt;
      flush();
      t.segments.push_back(std::move(*p));
      i = close + 1;
    } else if (c == '}') {
      why = "unmatched '}' (write }} for a literal brace)";
      return std::nullopt;
    } else {
      literal += c;
      ++i;
    }
  }
  flush();
  return t;
}

void expand(const value_template& t, const exchange& ex, std::string& out) {
  const std::string& target = ex.request.target;
  const auto query_at = target.find('?');
  for (const segment& s : t.segments) {
    switch (s.kind) {
      case source::literal:
        out += s.text;
        break;
      case source::method:
        out += http::to_string(ex.request.method);
        break;
      case source::path:
        out += std::string_view{target}.substr(0, query_at);
        break;
      case source::query:
        if (query_at != std::string::npos) out += std::string_view{target}.substr(query_at + 1);
        break;
      case source::target:
        out += target;
        break;
      case source::host:
        out += ex.request.fields.get("Host").value_or(std::string_view{});
        break;
      case source::consumer:
        out += ex.consumer;
        break;
      case source::header:
        out += ex.request.fields.get(s.text).value_or(std::string_view{});
        break;
      case source::param:
        out += ex.param(s.text).value_or(std::string_view{});
        break;
    }
  }
}

// Where expansions are built: one buffer per worker thread, so a warmed-up worker expands
// templates without allocating. Each value is copied into its head before the next expansion.
std::string& scratch() noexcept {
  thread_local std::string buffer;
  return buffer;
}

// Moves every field called `from` to the end under the name `to`.
void rename(http::headers& h, std::string_view from, std::string_view to) {
  std::size_t left = h.count(from);
  std::string& value = scratch();
  for (auto it = h.begin(); left > 0 && it != h.end();) {
    auto f = *it;
    if (!core::iequals(f.name, from)) {
      ++it;
      continue;
    }
    value.assign(f.value);
    it = h.erase(it);
    h.add(to, value);
    --left;
  }
}

// One `set` or `add` edit, its value compiled.
struct value_edit {
  std::string name;
  value_template value;
};

// The edits of one direction, checked and compiled.
struct compiled_edits {
  std::vector<std::string> remove;
  std::vector<header_rename> rename;
  std::vector<value_edit> set;
  std::vector<value_edit> add;

  bool empty() const noexcept {
    return remove.empty() && rename.empty() && set.empty() && add.empty();
  }
};

void check_name(detail::config_errors& errors, const std::string& field, std::string_view name) {
  if (!is_field_name(name))
    errors.add(field, "must be a field name (an RFC 9110 token)");
  else if (is_framing_field(name))
    errors.add(field, "framing fields (Content-Length, Transfer-Encoding) are the gateway's");
}

compiled_edits compile_edits(header_edits in, std::string_view direction,
                             detail::config_errors& errors);

}  // namespace

struct headers::compiled {
  compiled_edits request;
  compiled_edits response;
};

headers::headers(headers_config config) {
  detail::config_errors errors{"headers"};
  auto c = std::make_shared<compiled>();
  c->request = compile_edits(std::move(config.request), "request", errors);
  c->response = compile_edits(std::move(config.response), "response", errors);
  errors.throw_if_any();
  compiled_ = std::move(c);
}

namespace {

compiled_edits compile_edits(header_edits in, std::string_view direction,
                             detail::config_errors& errors) {
  compiled_edits out;
  auto at = [&](std::string_view list, std::size_t i, std::string_view member = {}) {
    std::string path{direction};
    path.append(".").append(list).append("[").append(std::to_string(i)).append("]");
    if (!member.empty()) path.append(".").append(member);
    return path;
  };
  for (std::size_t i = 0; i < in.remove.size(); ++i)
    check_name(errors, at("remove", i), in.remove[i]);
  out.remove = std::move(in.remove);
  for (std::size_t i = 0; i < in.rename.size(); ++i) {
    const header_rename& r = in.rename[i];
    check_name(errors, at("rename", i, "from"), r.from);
    check_name(errors, at("rename", i, "to"), r.to);
    if (core::iequals(r.from, r.to)) errors.add(at("rename", i), "renames a field to itself");
  }
  out.rename = std::move(in.rename);
  auto compile_values = [&](std::vector<header_value>& values, std::string_view list,
                            std::vector<value_edit>& into) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      check_name(errors, at(list, i, "name"), values[i].name);
      if (!is_safe_field_value(values[i].value)) {
        errors.add(at(list, i, "value"), "contains CR, LF or NUL");
        continue;
      }
      std::string why;
      auto t = compile(values[i].value, why);
      if (!t) {
        errors.add(at(list, i, "value"), why);
        continue;
      }
      into.push_back({std::move(values[i].name), std::move(*t)});
    }
  };
  compile_values(in.set, "set", out.set);
  compile_values(in.add, "add", out.add);
  return out;
}

// The value of `e` for this exchange; empty optional when its expansion is unsafe.
std::optional<std::string_view> resolve(const value_edit& e, const exchange& ex) {
  if (e.value.is_literal()) return e.value.literal();
  std::string& out = scratch();
  out.clear();
  expand(e.value, ex, out);
  if (!is_safe_field_value(out)) return std::nullopt;
  return std::string_view{out};
}

// Applies `edits` to `h`. A computed value that is unsafe answers 400 in the request
// direction and skips that edit in the response direction.
template <bool Request>
verdict apply(const compiled_edits& edits, exchange& ex, http::headers& h) {
  for (const std::string& name : edits.remove) h.erase(name);
  for (const header_rename& r : edits.rename) rename(h, r.from, r.to);
  for (const auto& e : edits.set) {
    auto value = resolve(e, ex);
    if (value)
      h.set(e.name, *value);
    else if constexpr (Request)
      return ex.respond(http::status::bad_request,
                        "a request value would put CR, LF or NUL in a header field\n",
                        "text/plain; charset=utf-8");
  }
  for (const auto& e : edits.add) {
    auto value = resolve(e, ex);
    if (value)
      h.add(e.name, *value);
    else if constexpr (Request)
      return ex.respond(http::status::bad_request,
                        "a request value would put CR, LF or NUL in a header field\n",
                        "text/plain; charset=utf-8");
  }
  return verdict::continue_;
}

}  // namespace

verdict headers::on_request_head(exchange& ex) const {
  return apply<true>(compiled_->request, ex, ex.request.fields);
}

verdict headers::on_response_head(exchange& ex) const {
  return apply<false>(compiled_->response, ex, ex.response.fields);
}

std::uint8_t headers::phases_in_use() const noexcept {
  std::uint8_t in_use = 0;
  if (!compiled_->request.empty()) in_use |= phase_bit(phase::request_head);
  if (!compiled_->response.empty()) in_use |= phase_bit(phase::response_head);
  return in_use;
}

}  // namespace gantry::policy
