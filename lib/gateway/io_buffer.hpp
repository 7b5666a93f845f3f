#pragma once
// A fixed-capacity read buffer: bytes arrive at the end, the parser consumes from the front.

#include <asio/buffer.hpp>
#include <cstring>
#include <memory>
#include <string_view>

namespace gantry::detail {

class io_buffer {
 public:
  io_buffer() = default;
  explicit io_buffer(std::unique_ptr<char[]> storage, std::size_t capacity) noexcept
      : storage_{std::move(storage)}, capacity_{capacity} {}

  bool has_storage() const noexcept { return storage_ != nullptr; }
  std::unique_ptr<char[]> release_storage() noexcept {
    begin_ = end_ = 0;
    return std::move(storage_);
  }

  std::string_view readable() const noexcept { return {storage_.get() + begin_, end_ - begin_}; }
  bool empty() const noexcept { return begin_ == end_; }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void clear() noexcept { begin_ = end_ = 0; }

  /// Space for the next read; moves unconsumed bytes to the front when the tail is full.
  asio::mutable_buffer prepare() noexcept {
    if (end_ == capacity_ && begin_ > 0) {
      std::memmove(storage_.get(), storage_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {storage_.get() + end_, capacity_ - end_};
  }
  void commit(std::size_t n) noexcept { end_ += n; }

 private:
  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace gantry::detail
