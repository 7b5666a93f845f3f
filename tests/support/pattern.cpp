#include "support/pattern.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace gantry::testing {
namespace {

constexpr std::size_t period = 251;
constexpr std::size_t table_size = period * 4097;

const std::vector<char>& table() {
  static const std::vector<char> t = [] {
    std::vector<char> v(table_size);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>(i % period);
    return v;
  }();
  return t;
}

}  // namespace

std::string_view pattern_slice(std::uint64_t offset, std::size_t max) {
  auto start = static_cast<std::size_t>(offset % period);
  return {table().data() + start, std::min(max, table_size - start)};
}

std::string pattern_bytes(std::uint64_t offset, std::size_t size) {
  std::string out;
  out.reserve(size);
  while (out.size() < size) out.append(pattern_slice(offset + out.size(), size - out.size()));
  return out;
}

void pattern_checker::feed(std::string_view piece) {
  while (!piece.empty()) {
    auto expected = pattern_slice(size_, piece.size());
    if (!first_mismatch_ && std::memcmp(expected.data(), piece.data(), expected.size()) != 0) {
      for (std::size_t i = 0; i < expected.size(); ++i) {
        if (expected[i] != piece[i]) {
          first_mismatch_ = size_ + i;
          break;
        }
      }
    }
    size_ += expected.size();
    piece.remove_prefix(expected.size());
  }
}

}  // namespace gantry::testing
