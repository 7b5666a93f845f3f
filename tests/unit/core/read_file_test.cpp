#include "gantry/core/read_file.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

using gantry::core::read_file;

TEST_CASE("read_file reads a whole file of at most the bound, and says why not otherwise") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gantry_read_file_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "body.bin";
  // More than one 64 KiB read, with a NUL inside: read as bytes, not as a C string.
  const std::string contents = std::string(100'000, 'a') + '\0' + "end";
  {
    std::ofstream out{path, std::ios::binary};
    out << contents;
  }

  std::string out = "unchanged";
  CHECK_FALSE(read_file(path, contents.size(), out));
  CHECK(out == contents);

  out = "unchanged";
  auto why = read_file(path, contents.size() - 1, out);
  REQUIRE(why);
  CHECK(*why == "larger than 100003 bytes");
  CHECK(out == "unchanged");

  why = read_file("/dev/zero", 1 << 20, out);  // a device without end: stops at the bound
  REQUIRE(why);
  CHECK(*why == "larger than 1048576 bytes");

  why = read_file(dir, 1 << 20, out);
  REQUIRE(why);
  CHECK(*why == "is a directory");

  why = read_file(dir / "missing", 1 << 20, out);
  REQUIRE(why);
  CHECK(*why == "No such file or directory");
  CHECK(out == "unchanged");

  const auto empty = dir / "empty";
  std::ofstream{empty}.close();
  CHECK_FALSE(read_file(empty, 0, out));
  CHECK(out.empty());
  std::filesystem::remove_all(dir);
}
