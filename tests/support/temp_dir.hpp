#pragma once
/// @file
/// A temporary directory removed with everything in it on destruction.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gantry::testing {

class temp_dir {
 public:
  /// Creates /tmp/gantry-<tag>-XXXXXX (or under $TMPDIR).
  explicit temp_dir(std::string_view tag = "test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  /// path() / name
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

  /// Writes `content` to path() / name and returns that path.
  std::filesystem::path write(std::string_view name, std::string_view content) const;
  /// Creates a sparse file of `size` bytes (reads as zeros, takes no disk space).
  std::filesystem::path sparse_file(std::string_view name, std::uint64_t size) const;

 private:
  std::filesystem::path path_;
};

/// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::filesystem::path& path);

}  // namespace gantry::testing
