// Fuzz target: http::normalize_path. Input: one byte of options, then the request target.
//
// Invariants of an accepted target: the query is untouched; the path starts with '/', is no
// longer than before, holds no "." or ".." segment, no "//" when slashes are merged, and no
// percent-encoding of an unreserved character or with lowercase hex; and normalising it again
// changes nothing (one spelling per path, so routes and ACLs see what the upstream sees).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "gantry/http/path_normalization.hpp"

namespace {

using gantry::http::path_error;

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lowercase hex is not normal either
}

void check_normal_path(std::string_view path, bool merged) {
  GANTRY_FUZZ_CHECK(!path.empty() && path.front() == '/', path);
  for (std::size_t at = 0; at < path.size();) {
    const std::size_t next = std::min(path.find('/', at + 1), path.size());
    const std::string_view segment = path.substr(at + 1, next - at - 1);
    GANTRY_FUZZ_CHECK(segment != "." && segment != "..", path);
    GANTRY_FUZZ_CHECK(!merged || !segment.empty() || next == path.size(), path);
    at = next;
  }
  for (std::size_t i = path.find('%'); i != std::string_view::npos; i = path.find('%', i + 1)) {
    GANTRY_FUZZ_CHECK(i + 2 < path.size(), path);
    const int hi = hex(path[i + 1]), lo = hex(path[i + 2]);
    GANTRY_FUZZ_CHECK(hi >= 0 && lo >= 0, path);
    GANTRY_FUZZ_CHECK(!is_unreserved(static_cast<unsigned char>(hi * 16 + lo)), path);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gantry::fuzz::input_reader in{data, size};
  const std::uint8_t flags = in.byte();
  gantry::http::path_normalization options;
  options.merge_slashes = (flags & 1) != 0;
  options.slashes = (flags & 2) != 0 ? gantry::http::encoded_slashes::keep
                                     : gantry::http::encoded_slashes::reject;
  const std::string input{in.rest()};

  std::string once = input;
  if (gantry::http::normalize_path(once, options) != path_error::none) return 0;
  if (input.empty() || input.front() != '/') {
    GANTRY_FUZZ_CHECK(once == input, input);
    return 0;
  }
  const std::size_t query = input.find('?');
  const std::size_t once_query = once.find('?');
  GANTRY_FUZZ_CHECK(once.size() <= input.size(), input);
  GANTRY_FUZZ_CHECK((query == std::string::npos) == (once_query == std::string::npos), input);
  if (query != std::string::npos)
    GANTRY_FUZZ_CHECK(std::string_view{once}.substr(once_query) ==
                          std::string_view{input}.substr(query),
                      input);
  check_normal_path(std::string_view{once}.substr(0, once_query), options.merge_slashes);

  std::string twice = once;
  GANTRY_FUZZ_CHECK(gantry::http::normalize_path(twice, options) == path_error::none, once);
  GANTRY_FUZZ_CHECK(twice == once, once);
  return 0;
}
