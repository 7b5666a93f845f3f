#include "fields.hpp"

#include <fmt/format.h>

#include "values.hpp"

namespace gantry::config::detail {
namespace {

// Reports a field that could end the head early or is no field at all.
bool check_field(const node& name_at, const node& value_at, const policy::header_value& f) {
  bool ok = true;
  if (!policy::is_field_name(f.name)) {
    name_at.fail(fmt::format("{} is not a field name (an RFC 9110 token)", quote(f.name)));
    ok = false;
  }
  if (!policy::is_safe_field_value(f.value)) {
    value_at.fail("a field value may not hold CR, LF or NUL");
    ok = false;
  }
  return ok;
}

}  // namespace

std::vector<policy::header_value> read_fields(const node& n, bool check) {
  std::vector<policy::header_value> fields;
  if (n.is_list()) {
    for (const node& item : n.items()) {
      if (!item.expect_map({"name", "value"})) continue;
      policy::header_value field;
      const node name = item.required("name");
      const node value = item.required("value");
      const bool named = name.read(field.name);
      const bool valued = value.read(field.value);
      if (named && valued && (!check || check_field(name, value, field)))
        fields.push_back(std::move(field));
    }
  } else if (n.is_map() || n.is_null()) {
    for (auto& [name, value] : n.entries()) {
      auto text = value.as_string();
      if (!text) continue;
      policy::header_value field{name, std::move(*text)};
      if (!check || check_field(value, value, field)) fields.push_back(std::move(field));
    }
  } else if (n.present()) {
    n.fail("expected header fields: a map of names to values, or a list of {name, value}");
  }
  return fields;
}

}  // namespace gantry::config::detail
