#include "gantry/config/error.hpp"

#include <fmt/format.h>

namespace gantry::config {
namespace {

std::string join(const std::vector<diagnostic>& diagnostics) {
  std::string text;
  for (const diagnostic& d : diagnostics) {
    if (!text.empty()) text += '\n';
    text += d.to_string();
  }
  return text;
}

}  // namespace

std::string diagnostic::to_string() const {
  std::string text = file;
  if (line > 0) text += fmt::format(":{}:{}", line, column);
  text += ": ";
  if (!path.empty()) {
    text += path;
    text += ": ";
  }
  text += message;
  return text;
}

error::error(std::vector<diagnostic> diagnostics)
    : std::runtime_error{join(diagnostics)},
      diagnostics_{std::make_shared<const std::vector<diagnostic>>(std::move(diagnostics))} {}

}  // namespace gantry::config
