#include "gantry/policy/chain.hpp"

#include <fmt/format.h>

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
  if (timing_.into == nullptr) {
    if (chain_timing asked = l.policy->timing_asked(); asked.on()) adopt(std::move(asked));
  }
  resolve_slots(l);
  links_.push_back(std::move(l));
}

void chain::adopt(chain_timing timing) {
  timing_ = timing.on() ? std::move(timing) : chain_timing{};
  for (link& l : links_) resolve_slots(l);
}

void chain::resolve_slots(link& l) const {
  l.slots.clear();
  if (timing_.into == nullptr) return;
  for (const std::string& name : l.names) l.slots.push_back(timing_.into->slot(name));
}

chain& chain::time_policies(chain_timing timing) {
  adopt(std::move(timing));
  return *this;
}

chain& chain::append(const chain& other) {
  if (&other == this) {
    auto copy = other.links_;
    const chain_timing timing = other.timing_;
    if (timing_.into == nullptr && timing.on()) adopt(timing);
    for (auto& l : copy) push(std::move(l));
    return *this;
  }
  if (timing_.into == nullptr && other.timing_.on()) adopt(other.timing_);
  links_.reserve(links_.size() + other.links_.size());
  for (const link& l : other.links_) push(l);
  return *this;
}

chain& chain::append(const chain& other, std::string_view name) {
  chain named = other;
  std::size_t position = 0;
  for (link& l : named.links_)
    for (std::string& n : l.names)
      n = other.size() == 1 ? std::string{name} : fmt::format("{}[{}]", name, position++);
  return append(named);
}

std::string_view chain::policy_name(std::size_t index) const noexcept {
  for (const link& l : links_)
    if (index >= l.at.first && index < l.at.first + l.count) return l.names[index - l.at.first];
  return {};
}

template <phase Ph, bool Timed>
outcome chain::call(const link& l, exchange& ex, body_chunk* chunk) const {
  detail::placement at = l.at;
  // A static chain times its own policies, with these.
  if constexpr (Timed) at.slots = l.slots.data();
  if constexpr (Ph == phase::request_head) return l.policy->request_head(ex, at);
  if constexpr (Ph == phase::request_body) return l.policy->request_body(ex, *chunk, at);
  if constexpr (Ph == phase::response_head) return l.policy->response_head(ex, at);
  if constexpr (Ph == phase::response_body) return l.policy->response_body(ex, *chunk, at);
  if constexpr (Ph == phase::request_trailers) return l.policy->request_trailers(ex, at);
  if constexpr (Ph == phase::response_trailers) return l.policy->response_trailers(ex, at);
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
  if constexpr (is_request_phase(Ph))
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

void chain::begin(exchange& ex) const {
  chain_access::ensure_states(ex, layout());
  if (timing_.into != nullptr) chain_access::decide_timing(ex, timing_);
}

template <phase Ph, bool Timed>
outcome chain::run_forward(exchange& ex, body_chunk* chunk, std::size_t from) const {
  for (std::size_t i = from; i < links_.size(); ++i) {
    const link& l = links_[i];
    if ((l.phases & bit<Ph>()) == 0) continue;
    clock::time_point since{};
    if constexpr (Timed) since = chain_access::now(ex);
    outcome o = call<Ph, Timed>(l, ex, chunk);
    if (!o.ready()) return resume_forward<Ph, Timed>(ex, chunk, i, std::move(o), since);
    if constexpr (Timed)
      if (!l.times_itself) chain_access::record_time(ex, l.slots[0], Ph, phase_mode::sync, since);
    if (responded<Ph>(ex, o.value(), answering(l))) return verdict::respond;
  }
  return verdict::continue_;
}

template <phase Ph, bool Timed>
asio::awaitable<verdict> chain::resume_forward(exchange& ex, body_chunk* chunk, std::size_t index,
                                               outcome pending, clock::time_point since) const {
  verdict v = co_await std::move(pending).awaitable();
  const link& l = links_[index];
  if constexpr (Timed)
    if (!l.times_itself) chain_access::record_time(ex, l.slots[0], Ph, phase_mode::async, since);
  if (responded<Ph>(ex, v, answering(l))) co_return verdict::respond;
  outcome rest = run_forward<Ph, Timed>(ex, chunk, index + 1);
  // Not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
  if (rest.ready()) co_return rest.value();
  co_return co_await std::move(rest).awaitable();
}

template <phase Ph, bool Timed>
outcome chain::run_reverse(exchange& ex, body_chunk* chunk, std::size_t remaining) const {
  for (std::size_t i = remaining; i-- > 0;) {
    const link& l = links_[i];
    if ((l.phases & bit<Ph>()) == 0) continue;
    clock::time_point since{};
    if constexpr (Timed) since = chain_access::now(ex);
    outcome o = call<Ph, Timed>(l, ex, chunk);
    if (!o.ready()) return resume_reverse<Ph, Timed>(ex, chunk, i, std::move(o), since);
    if constexpr (Timed)
      if (!l.times_itself) chain_access::record_time(ex, l.slots[0], Ph, phase_mode::sync, since);
    if (responded<Ph>(ex, o.value(), answering(l))) return verdict::respond;
  }
  return verdict::continue_;
}

template <phase Ph, bool Timed>
asio::awaitable<verdict> chain::resume_reverse(exchange& ex, body_chunk* chunk, std::size_t index,
                                               outcome pending, clock::time_point since) const {
  verdict v = co_await std::move(pending).awaitable();
  const link& l = links_[index];
  if constexpr (Timed)
    if (!l.times_itself) chain_access::record_time(ex, l.slots[0], Ph, phase_mode::async, since);
  if (responded<Ph>(ex, v, answering(l))) co_return verdict::respond;
  outcome rest = run_reverse<Ph, Timed>(ex, chunk, index);
  // Not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
  if (rest.ready()) co_return rest.value();
  co_return co_await std::move(rest).awaitable();
}

outcome chain::run_request_head(exchange& ex) const {
  begin(ex);
  if (chain_access::request_closed(ex)) return verdict::respond;
  if (timed(ex)) return run_forward<phase::request_head, true>(ex, nullptr, 0);
  return run_forward<phase::request_head, false>(ex, nullptr, 0);
}

outcome chain::run_request_body(exchange& ex, body_chunk& chunk) const {
  begin(ex);
  if (chain_access::request_closed(ex)) return verdict::respond;
  if (timed(ex)) return run_forward<phase::request_body, true>(ex, &chunk, 0);
  return run_forward<phase::request_body, false>(ex, &chunk, 0);
}

outcome chain::run_response_head(exchange& ex) const {
  begin(ex);
  if (chain_access::response_final(ex)) return verdict::continue_;
  if (timed(ex)) return run_reverse<phase::response_head, true>(ex, nullptr, links_reached(ex));
  return run_reverse<phase::response_head, false>(ex, nullptr, links_reached(ex));
}

outcome chain::run_response_body(exchange& ex, body_chunk& chunk) const {
  begin(ex);
  if (chain_access::response_final(ex)) return verdict::continue_;
  if (timed(ex)) return run_reverse<phase::response_body, true>(ex, &chunk, links_reached(ex));
  return run_reverse<phase::response_body, false>(ex, &chunk, links_reached(ex));
}

outcome chain::run_request_trailers(exchange& ex) const {
  begin(ex);
  if (chain_access::request_closed(ex)) return verdict::respond;
  if (timed(ex)) return run_forward<phase::request_trailers, true>(ex, nullptr, 0);
  return run_forward<phase::request_trailers, false>(ex, nullptr, 0);
}

outcome chain::run_response_trailers(exchange& ex) const {
  begin(ex);
  if (chain_access::response_final(ex)) return verdict::continue_;
  if (timed(ex)) return run_reverse<phase::response_trailers, true>(ex, nullptr, links_reached(ex));
  return run_reverse<phase::response_trailers, false>(ex, nullptr, links_reached(ex));
}

template <bool Timed>
void chain::log_all(exchange& ex) const {
  std::exception_ptr first;
  for (const link& l : links_) {
    if ((l.phases & bit<phase::log>()) == 0) continue;
    try {
      detail::placement at = l.at;
      clock::time_point since{};
      if constexpr (Timed) {
        at.slots = l.slots.data();
        since = chain_access::now(ex);
      }
      l.policy->log(ex, at);
      if constexpr (Timed)
        if (!l.times_itself)
          chain_access::record_time(ex, l.slots[0], phase::log, phase_mode::sync, since);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void chain::run_log(exchange& ex) const {
  begin(ex);
  chain_access::mark_end(ex);
  if (timed(ex))
    log_all<true>(ex);
  else
    log_all<false>(ex);
}

}  // namespace gantry::policy
