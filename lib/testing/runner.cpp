// The test kit's `run`: the gateway's exchange flow over in-memory ports. The downstream port
// hands out the request body's pieces and keeps the response as the client would read it;
// the upstream port keeps what reached it and answers with the scripted reply. Both hold
// everything in memory, so nothing is sent before the flow ends a message, as on a
// connection whose peer is fast: an answer from a response body phase always replaces the
// response.
#include "gantry/testing/runner.hpp"

#include <asio/io_context.hpp>
#include <cstdint>
#include <exception>

#include "../gateway/exchange_flow_impl.hpp"
#include "gantry/testing/run_awaitable.hpp"

namespace gantry::testing {
namespace {

using detail::body_step;
using detail::head_step;
using detail::transfer;
using detail::transfer_result;

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

 private:
  std::span<const std::string> pieces_;
  std::size_t next_ = 0;
};

// Writes complete at once; reads are never needed (a scripted body is all there).
transfer done(std::size_t n = 0) { co_return transfer_result{std::error_code{}, n}; }

// The client's side: the request body from its pieces, the response as it reaches the client.
class memory_downstream {
 public:
  memory_downstream(std::span<const std::string> body, std::uint64_t request_bytes,
                    run_result& into)
      : body_{body}, request_bytes_{request_bytes}, result_{into} {}

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
  const http::headers& trailers() const noexcept { return no_trailers_; }
  void body_done() noexcept {}

  asio::awaitable<std::error_code> send_interim(http::response&) { co_return std::error_code{}; }
  void queue_response_head(http::response&, const http::body_framing&, bool) noexcept {
    started_ = true;
  }
  void queue_local_head(http::response&, std::size_t, bool) noexcept { started_ = true; }
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
  void queue_end(const http::headers&) noexcept {}
  transfer send(std::string_view piece = {}) {
    sent_ = true;
    result_.body.append(piece);
    return done(piece.size());
  }
  std::error_code written(const transfer_result&) noexcept { return {}; }

 private:
  scripted_body body_;
  std::uint64_t request_bytes_;
  run_result& result_;
  http::headers no_trailers_;
  bool request_complete_ = body_.empty();
  bool started_ = false;
  bool sent_ = false;
};

// The upstream's side: what reaches it, and the scripted reply.
class memory_upstream {
 public:
  struct target {};

  memory_upstream(const upstream_reply& reply, run_result& into)
      : reply_{reply}, body_{reply.body}, result_{into} {}

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
  void queue_end(const http::headers&) noexcept {}
  transfer send(std::string_view piece = {}) {
    if (head_ != nullptr) {
      result_.forwarded = true;
      result_.upstream_request = *head_;
      head_ = nullptr;
    }
    result_.upstream_body.append(queued_);
    result_.upstream_body.append(piece);
    queued_.clear();
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
  const http::headers& trailers() const noexcept { return no_trailers_; }
  void body_done() noexcept { release(true); }

 private:
  const upstream_reply& reply_;
  scripted_body body_;
  run_result& result_;
  const http::request* head_ = nullptr;
  std::string queued_;
  http::response interim_;
  http::headers no_trailers_;
  bool lent_ = false;
};

// Runs like the chain it wraps, and keeps the verdict of each phase in the result.
class recording_chain {
 public:
  recording_chain(const policy::chain& chain, run_result& into) : chain_{chain}, result_{into} {}

  bool empty() const noexcept { return chain_.empty(); }
  bool has_phase(policy::phase ph) const noexcept { return chain_.has_phase(ph); }
  policy::outcome run_request_head(policy::exchange& ex) const {
    return record(chain_.run_request_head(ex), result_.request_head);
  }
  policy::outcome run_request_body(policy::exchange& ex, policy::body_chunk& piece) const {
    return record(chain_.run_request_body(ex, piece), result_.request_body);
  }
  // Once a response phase answered, the response is final and no policy runs a response
  // phase for it: the flow's calls then record nothing.
  policy::outcome run_response_head(policy::exchange& ex) const {
    if (final(ex)) return chain_.run_response_head(ex);
    return record(chain_.run_response_head(ex), result_.response_head);
  }
  policy::outcome run_response_body(policy::exchange& ex, policy::body_chunk& piece) const {
    if (final(ex)) return chain_.run_response_body(ex, piece);
    return record(chain_.run_response_body(ex, piece), result_.response_body);
  }
  void run_log(policy::exchange& ex) const { chain_.run_log(ex); }

 private:
  static bool final(const policy::exchange& ex) noexcept {
    return policy::detail::chain_access::response_final(ex);
  }
  policy::outcome record(policy::outcome o, std::optional<policy::verdict>& into) const {
    if (o.ready()) {
      into = o.value();
      return o;
    }
    ++result_.suspensions;
    return settle(std::move(o).awaitable(), into);
  }
  static asio::awaitable<policy::verdict> settle(asio::awaitable<policy::verdict> pending,
                                                 std::optional<policy::verdict>& into) {
    const policy::verdict v = co_await std::move(pending);
    into = v;
    co_return v;
  }

  const policy::chain& chain_;
  run_result& result_;
};

}  // namespace

run_result run(const policy::chain& chain, policy::exchange& ex,
               std::span<const std::string> request_body, const upstream_reply& reply) {
  run_result r;
  memory_downstream down{request_body, ex.request_bytes, r};
  memory_upstream up{reply, r};
  const recording_chain recorder{chain, r};
  std::string scratch;
  detail::exchange_flow<memory_downstream, memory_upstream, recording_chain> flow{ex, down, up,
                                                                                  scratch};
  flow.use(recorder, http::proxy_credentials::keep);
  asio::io_context io;
  run_awaitable(io, [&]() -> asio::awaitable<void> {
    bool failed = false;
    try {
      co_await flow.run([&] { return flow.forward({}); });
    } catch (const std::exception&) {
      failed = true;  // as in the gateway: a 500 if the response has not begun
    }
    if (failed) co_await flow.fail(http::status::internal_server_error);
  }());
  flow.end();
  r.response = ex.response;
  r.local = ex.has_local_response();
  return r;
}

}  // namespace gantry::testing
