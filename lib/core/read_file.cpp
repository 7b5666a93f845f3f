#include "gantry/core/read_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace gantry::core {

std::optional<std::string> read_file(const std::filesystem::path& path, std::size_t max_size,
                                     std::string& out) {
  // A directory opens and reads as empty: say what it is instead.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return "is a directory";
  std::ifstream in{path, std::ios::binary};
  if (!in) return std::strerror(errno);
  std::string text;
  char chunk[64 * 1024];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    if (text.size() + n > max_size) return "larger than " + std::to_string(max_size) + " bytes";
    text.append(chunk, n);
  }
  if (in.bad()) return std::strerror(errno);
  out = std::move(text);
  return std::nullopt;
}

}  // namespace gantry::core
