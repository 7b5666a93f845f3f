#include "gantry/policy/chain.hpp"

#include <exception>

namespace gantry::policy {

using detail::chain_access;

void chain::push(link l) {
  phases_ |= l.phases;
  l.at.first = policies_;
  policies_ += l.count;
  l.at.state_offset = 0;
  if (!l.states.entries.empty()) {
    l.at.state_offset = align_state_offset(state_size_, l.state_align);
    state_size_ = l.at.state_offset + l.states.size;
    for (state_entry e : l.states.entries) {
      e.offset += l.at.state_offset;
      states_.push_back(e);
    }
  }
  links_.push_back(std::move(l));
}

chain& chain::append(const chain& other) {
  if (&other == this) {
    auto copy = other.links_;
    for (auto& l : copy) push(std::move(l));
    return *this;
  }
  links_.reserve(links_.size() + other.links_.size());
  for (const link& l : other.links_) push(l);
  return *this;
}

template <phase Ph>
outcome chain::call(const link& l, exchange& ex, body_chunk* chunk) const {
  if constexpr (Ph == phase::request_head) return l.policy->request_head(ex, l.at);
  if constexpr (Ph == phase::request_body) return l.policy->request_body(ex, *chunk, l.at);
  if constexpr (Ph == phase::response_head) return l.policy->response_head(ex, l.at);
  if constexpr (Ph == phase::response_body) return l.policy->response_body(ex, *chunk, l.at);
}

namespace {

template <phase Ph>
constexpr std::uint8_t bit() noexcept {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(Ph));
}

// True when `v` answers; marks the exchange for the direction of `Ph`, as answered by the
// policy at `index`.
template <phase Ph>
bool responded(exchange& ex, verdict v, std::size_t index) {
  if (v != verdict::respond) return false;
  if constexpr (Ph == phase::request_head || Ph == phase::request_body)
    chain_access::request_responded(ex, index);
  else
    chain_access::response_responded(ex);
  return true;
}

}  // namespace

std::size_t chain::answering(const link& l) noexcept {
  // One policy: that one. A static chain has already marked the one of its policies that
  // answered, which is at most its last: marking the last as well changes nothing.
  return l.at.first + l.count - 1;
}

std::size_t chain::links_reached(const exchange& ex) const noexcept {
  // Response depth counts policies; a static chain it cuts through runs in part.
  const std::uint32_t depth = chain_access::response_depth(ex);
  std::size_t reached = links_.size();
  while (reached > 0 && links_[reached - 1].at.first >= depth) --reached;
  return reached;
}

template <phase Ph>
outcome chain::run_forward(exchange& ex, body_chunk* chunk, std::size_t from) const {
  for (std::size_t i = from; i < links_.size(); ++i) {
    const link& l = links_[i];
    if ((l.phases & bit<Ph>()) == 0) continue;
    outcome o = call<Ph>(l, ex, chunk);
    if (!o.ready()) return resume_forward<Ph>(ex, chunk, i, std::move(o));
    if (responded<Ph>(ex, o.value(), answering(l))) return verdict::respond;
  }
  return verdict::continue_;
}

template <phase Ph>
asio::awaitable<verdict> chain::resume_forward(exchange& ex, body_chunk* chunk, std::size_t index,
                                               outcome pending) const {
  verdict v = co_await std::move(pending).awaitable();
  if (responded<Ph>(ex, v, answering(links_[index]))) co_return verdict::respond;
  outcome rest = run_forward<Ph>(ex, chunk, index + 1);
  // Not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
  if (rest.ready()) co_return rest.value();
  co_return co_await std::move(rest).awaitable();
}

template <phase Ph>
outcome chain::run_reverse(exchange& ex, body_chunk* chunk, std::size_t remaining) const {
  for (std::size_t i = remaining; i-- > 0;) {
    const link& l = links_[i];
    if ((l.phases & bit<Ph>()) == 0) continue;
    outcome o = call<Ph>(l, ex, chunk);
    if (!o.ready()) return resume_reverse<Ph>(ex, chunk, i, std::move(o));
    if (responded<Ph>(ex, o.value(), answering(l))) return verdict::respond;
  }
  return verdict::continue_;
}

template <phase Ph>
asio::awaitable<verdict> chain::resume_reverse(exchange& ex, body_chunk* chunk, std::size_t index,
                                               outcome pending) const {
  verdict v = co_await std::move(pending).awaitable();
  if (responded<Ph>(ex, v, answering(links_[index]))) co_return verdict::respond;
  outcome rest = run_reverse<Ph>(ex, chunk, index);
  // Not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
  if (rest.ready()) co_return rest.value();
  co_return co_await std::move(rest).awaitable();
}

outcome chain::run_request_head(exchange& ex) const {
  chain_access::ensure_states(ex, layout());
  if (chain_access::request_closed(ex)) return verdict::respond;
  return run_forward<phase::request_head>(ex, nullptr, 0);
}

outcome chain::run_request_body(exchange& ex, body_chunk& chunk) const {
  chain_access::ensure_states(ex, layout());
  if (chain_access::request_closed(ex)) return verdict::respond;
  return run_forward<phase::request_body>(ex, &chunk, 0);
}

outcome chain::run_response_head(exchange& ex) const {
  chain_access::ensure_states(ex, layout());
  if (chain_access::response_final(ex)) return verdict::continue_;
  return run_reverse<phase::response_head>(ex, nullptr, links_reached(ex));
}

outcome chain::run_response_body(exchange& ex, body_chunk& chunk) const {
  chain_access::ensure_states(ex, layout());
  if (chain_access::response_final(ex)) return verdict::continue_;
  return run_reverse<phase::response_body>(ex, &chunk, links_reached(ex));
}

void chain::run_log(exchange& ex) const {
  chain_access::ensure_states(ex, layout());
  chain_access::mark_end(ex);
  std::exception_ptr first;
  for (const link& l : links_) {
    if ((l.phases & bit<phase::log>()) == 0) continue;
    try {
      l.policy->log(ex, l.at);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace gantry::policy
