#pragma once
// How both HTTP/1 codecs frame an outgoing body: pieces queued after the head, chunked when
// the length is not known, large pieces written from where they lie.

#include <string>
#include <string_view>

#include "gantry/http/headers.hpp"
#include "gantry/http/serializer.hpp"
#include "transfer.hpp"

namespace gantry::detail {

class http1_body_writer {
 public:
  explicit http1_body_writer(std::string& out) noexcept : out_{&out} {}

  // A new message: its body goes chunked or as it is, or is not sent at all (the answer to
  // HEAD, a 204 or a 304).
  void begin(bool chunked, bool bodyless = false) noexcept {
    chunked_ = chunked;
    bodyless_ = bodyless;
    terminate_after_write_ = false;
  }
  bool chunked() const noexcept { return chunked_; }

  // Frames `piece` after what is queued. False when it is too big to copy: the caller
  // writes the queue and then `piece` itself, and calls `wrote` afterwards.
  bool queue(std::string_view piece) {
    if (bodyless_) return true;
    if (chunked_) http::serialize_chunk_size(piece.size(), *out_);
    if (piece.size() <= coalesce_limit) {
      out_->append(piece);
      if (chunked_) out_->append(http::chunk_terminator);
      return true;
    }
    terminate_after_write_ = chunked_;
    return false;
  }
  void queue_end(const http::headers& trailers) {
    if (chunked_ && !bodyless_) http::serialize_last_chunk(trailers, *out_);
  }
  bool has_queued() const noexcept { return !out_->empty(); }
  std::string_view queued() const noexcept { return *out_; }

  // What was queued (and a piece written after it) is on its way.
  void wrote() {
    out_->clear();
    if (terminate_after_write_) {
      out_->append(http::chunk_terminator);
      terminate_after_write_ = false;
    }
  }

 private:
  std::string* out_;
  bool chunked_ = false;
  bool bodyless_ = false;
  bool terminate_after_write_ = false;  // a chunk written whole still needs its CRLF
};

}  // namespace gantry::detail
