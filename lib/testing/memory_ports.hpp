#pragma once
// In-memory ports for the exchange flow (see exchange_flow.hpp): a client and an upstream
// that take everything at once and keep what reaches them in a `run_result`. The test kit's
// `run` and `benchmark_chain` run the gateway's flow between them. Each can be reset and
// used again, keeping its buffers.

#include <asio/awaitable.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "../gateway/transfer.hpp"
#include "gantry/http/body_framing.hpp"
#include "gantry/http/headers.hpp"
#include "gantry/http/hop_by_hop.hpp"
#include "gantry/http/request.hpp"
#include "gantry/http/response.hpp"
#include "gantry/policy/downstream.hpp"
#include "gantry/testing/runner.hpp"

namespace gantry::detail {

using testing::run_result;
using testing::upstream_reply;

// A body handed out piece by piece, the last one marked so.
class scripted_body {
 public:
  explicit scripted_body(std::span<const std::string> pieces) : pieces_{pieces} {}

  body_step next_piece() {
    if (next_ == pieces_.size()) return {body_step::kind::end};
    const std::string& piece = pieces_[next_++];
    return {body_step::kind::piece, piece, {}, next_ == pieces_.size()};
  }
  std::uint64_t size() const noexcept {
    std::uint64_t n = 0;
    for (const std::string& p : pieces_) n += p.size();
    return n;
  }
  bool empty() const noexcept { return pieces_.empty(); }
  void rewind() noexcept { next_ = 0; }

 private:
  std::span<const std::string> pieces_;
  std::size_t next_ = 0;
};

// Writes complete at once; reads are never needed (a scripted body is all there).
inline transfer done(std::size_t n = 0) { co_return transfer_result{std::error_code{}, n}; }

// The client's side: the request body from its pieces, the response as it reaches the client.
class memory_downstream {
 public:
  memory_downstream(std::span<const std::string> body, const http::headers& trailers,
                    std::uint64_t request_bytes, run_result& into)
      : body_{body}, trailers_{trailers}, request_bytes_{request_bytes}, result_{into} {}

  // Ready for the same request again.
  void reset() noexcept {
    body_.rewind();
    request_complete_ = body_.empty();
    started_ = false;
    sent_ = false;
  }

  http::body_framing request_framing() const noexcept {
    if (body_.empty()) return {};
    return {false, body_.size()};
  }
  bool request_complete() const noexcept { return request_complete_; }
  std::uint64_t request_bytes() const noexcept { return request_bytes_; }
  body_step next_piece() {
    const body_step step = body_.next_piece();
    if (step.what == body_step::kind::end) request_complete_ = true;
    return step;
  }
  transfer read_more() { return done(); }
  std::error_code read_done(const transfer_result&) noexcept { return {}; }
  const http::headers& trailers() const noexcept { return trailers_; }
  void body_done() noexcept {}

  asio::awaitable<std::error_code> send_interim(http::response&) { co_return std::error_code{}; }
  void queue_response_head(http::response&, const http::body_framing&, bool) noexcept {
    started_ = true;
  }
  void queue_local_head(http::response&, std::size_t, bool, bool) noexcept { started_ = true; }
  bool response_started() const noexcept { return started_; }
  bool retract_response_head() noexcept {
    if (sent_) return false;
    started_ = false;
    result_.body.clear();
    return true;
  }
  bool closes_after() const noexcept { return false; }

  bool queue(std::string_view piece) {
    result_.body.append(piece);
    return true;
  }
  bool has_queued() const noexcept { return false; }
  void queue_end(const http::headers& trailers) { result_.trailers = trailers; }
  transfer send(std::string_view piece = {}) {
    sent_ = true;
    result_.body.append(piece);
    return done(piece.size());
  }
  std::error_code written(const transfer_result&) noexcept { return {}; }

 private:
  scripted_body body_;
  const http::headers& trailers_;
  std::uint64_t request_bytes_;
  run_result& result_;
  bool request_complete_ = body_.empty();
  bool started_ = false;
  bool sent_ = false;
};

// The upstream's side: what reaches it, and the scripted reply.
class memory_upstream {
 public:
  struct target {};

  // `keep_request`: copy the request head into the result as it reaches the upstream (a
  // benchmark only counts that it did).
  memory_upstream(const upstream_reply& reply, run_result& into, bool keep_request = true)
      : reply_{reply}, body_{reply.body}, result_{into}, keep_request_{keep_request} {
    for (const auto& [name, value] : reply.trailers) trailers_.add(name, value);
  }

  // Ready for the next request.
  void reset() noexcept {
    body_.rewind();
    head_ = nullptr;
    queued_.clear();
    lent_ = false;
  }

  bool prepare_head(http::request&, const http::body_framing&, http::proxy_credentials,
                    const policy::downstream_facts&, const target&) noexcept {
    return true;
  }
  bool use_idle(const target&) noexcept { return false; }
  void open(const target&) noexcept { lent_ = true; }
  asio::awaitable<std::error_code> connect(const target&) { co_return std::error_code{}; }
  bool lent() const noexcept { return lent_; }
  void release(bool) noexcept { lent_ = false; }
  void queue_head(const http::request& req) { head_ = &req; }

  // The request reaches the upstream when the flow sends it, not when it queues it: a
  // request body phase that answers first keeps all of it from the upstream.
  bool queue(std::string_view piece) {
    queued_.append(piece);
    return true;
  }
  bool has_queued() const noexcept { return false; }
  void queue_end(const http::headers& trailers) {
    if (keep_request_) queued_trailers_ = trailers;
  }
  transfer send(std::string_view piece = {}) {
    if (head_ != nullptr) {
      result_.forwarded = true;
      if (keep_request_) result_.upstream_request = *head_;
      head_ = nullptr;
    }
    result_.upstream_body.append(queued_);
    result_.upstream_body.append(piece);
    queued_.clear();
    if (!queued_trailers_.empty()) std::swap(result_.upstream_trailers, queued_trailers_);
    return done(piece.size());
  }
  std::error_code written(const transfer_result&) noexcept { return {}; }

  head_step next_head(http::proxy_credentials) const noexcept { return head_step::final; }
  http::response& response() noexcept { return interim_; }
  bool closed_before_response() const noexcept { return false; }
  bool take_response(http::response& into, http::proxy_credentials) {
    into.clear();
    into.status = reply_.status;
    for (const auto& [name, value] : reply_.headers) into.fields.add(name, value);
    return true;
  }
  http::body_framing response_framing() const noexcept { return {false, body_.size()}; }

  transfer read_more() { return done(); }
  std::error_code read_done(const transfer_result&) noexcept { return {}; }
  body_step next_piece() { return body_.next_piece(); }
  const http::headers& trailers() const noexcept { return trailers_; }
  void body_done() noexcept { release(true); }

 private:
  const upstream_reply& reply_;
  scripted_body body_;
  run_result& result_;
  const http::request* head_ = nullptr;
  std::string queued_;
  http::headers queued_trailers_;
  http::response interim_;
  http::headers trailers_;
  bool keep_request_;
  bool lent_ = false;
};

}  // namespace gantry::detail
