#pragma once
// Helpers shared by the configuration tests.

#include <string>
#include <string_view>
#include <vector>

#include "gantry/config/load.hpp"

namespace config_test {

// Every problem loading `text` (named "t.yaml") reports, one per line as
// `diagnostic::to_string` writes them; "" when it loads.
inline std::string problems(std::string_view text,
                            const gantry::config::load_options& options = {}) {
  try {
    gantry::config::load_string(text, "t.yaml", options);
  } catch (const gantry::config::error& e) {
    return e.what();
  }
  return {};
}

// The addresses of `doc.listen` that serve the listener named `listener` ("" for the
// top-level list).
inline std::vector<std::string> addresses(const gantry::config::document& doc,
                                          std::string_view listener = {}) {
  std::vector<std::string> out;
  for (const auto& l : doc.listen)
    if (l.options.name == listener) out.push_back(l.address);
  return out;
}

}  // namespace config_test
