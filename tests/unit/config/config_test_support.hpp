#pragma once
// Helpers shared by the configuration tests.

#include <string>
#include <string_view>

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

}  // namespace config_test
