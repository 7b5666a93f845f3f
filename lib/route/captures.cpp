#include "gantry/route/captures.hpp"

#include "pattern.hpp"

namespace gantry::route {

void expand_captures(std::string_view pattern, const captures& values, std::string& out) {
  while (!pattern.empty()) {
    auto open = pattern.find('{');
    out.append(pattern.substr(0, open));
    if (open == std::string_view::npos) return;
    pattern.remove_prefix(open);
    std::string_view name;
    if (std::size_t length = detail::placeholder_at(pattern, name)) {
      if (auto value = values.get(name)) out.append(*value);
      pattern.remove_prefix(length);
    } else {
      out.push_back('{');
      pattern.remove_prefix(1);
    }
  }
}

}  // namespace gantry::route
