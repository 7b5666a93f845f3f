#include "gantry/http/path_normalization.hpp"

#include <cstddef>

#include "gantry/core/ascii.hpp"

namespace gantry::http {
namespace {

char upper_hex(char c) noexcept { return c >= 'a' && c <= 'f' ? static_cast<char>(c - 32) : c; }

}  // namespace

path_error normalize_path(std::string& target, const path_normalization& options) {
  if (target.empty() || target.front() != '/') return path_error::none;
  std::size_t end = target.find('?');
  if (end == std::string::npos) end = target.size();

  // One pass, writing behind reading: t[0, w) is the normalised path so far, a sequence of
  // "/segment"s. Every step writes at most what it reads, so w never passes r.
  char* t = target.data();
  std::size_t r = 0, w = 0;
  while (r < end) {
    ++r;  // t[r] was '/'
    if (options.merge_slashes)
      while (r < end && t[r] == '/') ++r;
    t[w++] = '/';
    const std::size_t segment = w;
    while (r < end && t[r] != '/') {
      if (t[r] != '%') {
        t[w++] = t[r++];
        continue;
      }
      if (end - r < 3) return path_error::bad_percent_encoding;
      const int hi = core::hex_value(t[r + 1]), lo = core::hex_value(t[r + 2]);
      if (hi < 0 || lo < 0) return path_error::bad_percent_encoding;
      const auto byte = static_cast<unsigned char>(hi * 16 + lo);
      if ((byte == '/' || byte == '\\') && options.slashes == encoded_slashes::reject)
        return path_error::encoded_slash;
      if (core::is_unreserved(static_cast<char>(byte))) {
        t[w++] = static_cast<char>(byte);
      } else {
        t[w++] = '%';
        t[w++] = upper_hex(t[r + 1]);
        t[w++] = upper_hex(t[r + 2]);
      }
      r += 3;
    }
    const std::size_t length = w - segment;
    const bool dot = length == 1 && t[segment] == '.';
    const bool dot_dot = length == 2 && t[segment] == '.' && t[segment + 1] == '.';
    if (!dot && !dot_dot) continue;
    w = segment - 1;  // drop "/." or "/.."
    if (dot_dot)      // and the segment before it, if any
      while (w > 0 && t[--w] != '/') {
      }
    if (r == end) t[w++] = '/';  // "/a/b/.." is the directory "/a/"
  }
  if (w == 0) t[w++] = '/';
  target.erase(w, end - w);
  return path_error::none;
}

}  // namespace gantry::http
