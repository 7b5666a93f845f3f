#pragma once
/// @file
/// Per-exchange storage for the typed state of each policy in a chain.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>

namespace gantry::policy {

/// How to build and destroy one policy's state inside a `state_store`, and where it lives.
struct state_entry {
  /// Byte offset of the state in the store, aligned for its type.
  std::uint32_t offset = 0;
  /// Value-initializes the state at the given address; may throw.
  void (*construct)(void* at) = nullptr;
  /// Destroys the state at the given address.
  void (*destroy)(void* at) noexcept = nullptr;
};

/// The states of a chain's policies: one entry per policy that declares a `state` type, and
/// the bytes they need together. A chain computes it once, when it is built.
struct state_layout {
  std::span<const state_entry> entries;
  std::size_t size = 0;
};

/// The entry for a state of type `S` at `offset`.
template <class S>
constexpr state_entry make_state_entry(std::uint32_t offset) noexcept {
  static_assert(alignof(S) <= alignof(std::max_align_t),
                "a policy's state may not be over-aligned");
  return {offset, [](void* at) { ::new (at) S(); },
          [](void* at) noexcept { static_cast<S*>(at)->~S(); }};
}

/// The offset at which a state of the given alignment goes after `size` bytes.
constexpr std::uint32_t align_state_offset(std::size_t size, std::size_t alignment) noexcept {
  return static_cast<std::uint32_t>((size + alignment - 1) / alignment * alignment);
}

/// Storage for the policy states of one exchange: a small inline arena, and a heap block for
/// chains whose states outgrow it. Both are kept across exchanges, so an exchange object that
/// is reused (one per connection) stops allocating for state after its first exchange, and
/// never allocates when the states fit inline.
///
/// Chains call `prepare` before the first phase of an exchange; `exchange::reset` calls
/// `clear`. Policy code never touches it: a phase receives its own state by reference.
class state_store {
 public:
  /// Bytes of state kept inside the exchange object itself.
  static constexpr std::size_t inline_capacity = 256;

  state_store() = default;
  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;
  ~state_store() { clear(); }

  /// True between `prepare` and `clear`.
  bool prepared() const noexcept { return prepared_; }
  /// Constructs every state of `layout`, after destroying any there are. If a constructor
  /// throws, the states built so far are destroyed and the store is left cleared.
  void prepare(const state_layout& layout);
  /// Destroys the states, last first; keeps the memory.
  void clear() noexcept;

  /// The state of type `S` at `offset` (from the layout this store was prepared with).
  template <class S>
  S& get(std::uint32_t offset) noexcept {
    return *std::launder(static_cast<S*>(at(offset)));
  }
  /// The address of the state at `offset`.
  void* at(std::uint32_t offset) noexcept { return base_ + offset; }

 private:
  alignas(std::max_align_t) std::byte inline_[inline_capacity];
  std::unique_ptr<std::byte[]> heap_;
  std::size_t heap_capacity_ = 0;
  std::byte* base_ = inline_;
  std::span<const state_entry> entries_;
  std::size_t constructed_ = 0;
  bool prepared_ = false;
};

}  // namespace gantry::policy
