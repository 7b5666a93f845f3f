#pragma once
// Internal to the router: an open-addressing hash map from (scope, bytes) to a 32-bit value,
// built once and then only read. One map holds every trie edge of a table, keyed by
// (parent node, segment), so finding a child costs one hash and usually one probe however
// many children a node has.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::route::detail {

inline constexpr std::uint32_t npos = 0xffffffffu;

// Up to 7 bytes as one word without a variable-length memcpy, which compilers turn into a
// call. Distinct for distinct byte strings of the same length, which is all callers need.
inline std::uint64_t load_short(const char* p, std::size_t n) noexcept {
  if (n >= 4) {
    std::uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    return std::uint64_t{first} << 32 | last;
  }
  if (n == 0) return 0;
  const auto byte = [&](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
  return byte(0) << 16 | byte(n >> 1) << 8 | byte(n - 1);
}

// A key's first 8 bytes as a word, or the whole of a shorter key (see load_short): with the
// length, enough to tell keys of up to 8 bytes apart without reading them again.
inline std::uint64_t key_head(std::string_view key) noexcept {
  if (key.size() < 8) return load_short(key.data(), key.size());
  std::uint64_t head;
  std::memcpy(&head, key.data(), 8);
  return head;
}

// A fast, non-cryptographic hash of `bytes` seeded with `scope`: 8 bytes per multiply.
// Keys come from configuration and the map never changes after it is built, so a crafted
// path can at worst land on the map's longest probe run, which a half-empty map keeps short.
inline std::uint64_t hash_key(std::uint32_t scope, std::string_view bytes) noexcept {
  constexpr std::uint64_t k1 = 0x9e3779b97f4a7c15u;
  constexpr std::uint64_t k2 = 0xbf58476d1ce4e5b9u;
  std::uint64_t h = (std::uint64_t{scope} << 32 | bytes.size()) * k1;
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * k2;
    h ^= h >> 29;
  }
  if (n > 0) {
    h = (h ^ load_short(p, n)) * k2;
    h ^= h >> 29;
  }
  h *= k1;
  return h ^ (h >> 32);
}

class flat_index {
 public:
  // The value stored under (scope, key), or npos.
  std::uint32_t find(std::uint32_t scope, std::string_view key) const noexcept {
    return find(scope, key, hash_key(scope, key));
  }

  // The same, when the caller has computed `hash_key(scope, key)` already.
  std::uint32_t find(std::uint32_t scope, std::string_view key, std::uint64_t h) const noexcept {
    if (size_ == 0) return npos;
    const std::uint64_t head = key_head(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.value == npos) return npos;
      if (s.hash == h && s.scope == scope && s.key_length == key.size() && s.head == head &&
          (key.size() <= 8 ||
           std::string_view{keys_.data() + s.tail_offset, key.size() - 8} == key.substr(8)))
        return s.value;
    }
  }

  // Stores `value` under (scope, key) unless the key is there already; returns the value
  // stored under it either way.
  std::uint32_t insert(std::uint32_t scope, std::string_view key, std::uint32_t value) {
    if (std::uint32_t existing = find(scope, key); existing != npos) return existing;
    // At most half full, so misses end fast.
    if ((size_ + 1) * 2 > slots_.size()) grow();
    slot s;
    s.hash = hash_key(scope, key);
    s.scope = scope;
    s.value = value;
    s.key_length = static_cast<std::uint32_t>(key.size());
    s.head = key_head(key);
    s.tail_offset = static_cast<std::uint32_t>(keys_.size());
    if (key.size() > 8) keys_.append(key.substr(8));
    place(s);
    ++size_;
    return value;
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  // Half a cache line, so that a lookup usually touches one line: the first 8 bytes of the
  // key live in the slot, and keys that short (most path segments) need nothing else.
  struct alignas(32) slot {
    std::uint64_t hash = 0;
    std::uint32_t scope = 0;
    std::uint32_t value = npos;
    std::uint32_t key_length = 0;
    std::uint32_t tail_offset = 0;  // the bytes after the first 8, in keys_
    std::uint64_t head = 0;         // the first 8 bytes, or a shorter key (key_head)
  };

  void place(const slot& s) noexcept {
    std::size_t i = s.hash & mask_;
    while (slots_[i].value != npos) i = (i + 1) & mask_;
    slots_[i] = s;
  }

  void grow() {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, slot{});
    mask_ = slots_.size() - 1;
    for (const slot& s : old)
      if (s.value != npos) place(s);
  }

  std::vector<slot> slots_;
  std::string keys_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace gantry::route::detail
