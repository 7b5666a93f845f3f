#pragma once
/// @file
/// Reading a whole file named by configuration, bounded.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace gantry::core {

/// Reads the file at `path` into `out` when it holds at most `max_size` bytes; otherwise
/// leaves `out` as it was and returns why not ("No such file or directory", "is a directory",
/// "larger than 16777216 bytes"). The read stops at the bound, so a device such as /dev/zero
/// is an error, not a load that never ends.
std::optional<std::string> read_file(const std::filesystem::path& path, std::size_t max_size,
                                     std::string& out);

}  // namespace gantry::core
