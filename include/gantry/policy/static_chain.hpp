#pragma once
/// @file
/// A policy chain composed at compile time from policy types: no virtual calls.

#include <array>
#include <asio/awaitable.hpp>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>

#include "gantry/policy/policy.hpp"

namespace gantry::policy {

namespace detail {

template <class... Ps>
struct static_layout {
  static constexpr std::size_t stateful = (std::size_t{has_state<Ps>} + ... + 0);
  std::array<std::uint32_t, sizeof...(Ps)> offsets{};
  std::array<state_entry, stateful> entries{};
  std::size_t size = 0;
};

template <class... Ps>
consteval static_layout<Ps...> make_static_layout() {
  static_layout<Ps...> layout;
  std::size_t policy = 0;
  std::size_t entry = 0;
  auto place = [&]<class P>() {
    if constexpr (has_state<P>) {
      auto offset = align_state_offset(layout.size, alignof(state_t<P>));
      layout.offsets[policy] = offset;
      layout.entries[entry++] = make_state_entry<state_t<P>>(offset);
      layout.size = offset + sizeof(state_t<P>);
    }
    ++policy;
  };
  (place.template operator()<Ps>(), ...);
  (void)place;  // unused when the chain is empty
  return layout;
}

template <class C>
class static_model;

}  // namespace detail

/// A policy chain whose policy types are fixed at compile time: every phase call is a direct,
/// inlinable call, and phases a policy does not implement cost nothing. It runs exactly like
/// `chain` with the same policies in the same order (see `policy.hpp` for the contract).
///
/// ```
/// using api_chain = gantry::policy::static_chain<gantry::policy::request_id,
///                                                gantry::policy::headers>;
/// const api_chain c{gantry::policy::request_id_config{},
///                   gantry::policy::headers_config{.response = {.set = {{"Server", "gantry"}}}}};
/// auto o = c.run_request_head(ex);
/// ```
///
/// Like `chain`, build it, then share it read-only across workers. To serve it, hand it to
/// anything that takes a `chain` (`gateway::policy`, `route::route::chain`, `chain::add`):
/// it becomes one element of that chain, its own policies still called directly.
template <class... Ps>
class static_chain {
  static_assert((detail::check_policy<Ps>() && ...));

 public:
  // clang-format off
  /// Default-constructs every policy.
  static_chain()
    requires(std::default_initializable<Ps> && ...)
  = default;

  /// Takes the policies, in order.
  explicit static_chain(Ps... policies) : policies_{std::move(policies)...} {}

  /// Builds each policy from its argument, in order: a configuration or a policy.
  template <class... Args>
    requires(sizeof...(Args) == sizeof...(Ps) && sizeof...(Ps) > 0 &&
             !(std::same_as<std::remove_cvref_t<Args>, Ps> && ...) &&
             (std::constructible_from<Ps, Args&&> && ...))
  explicit static_chain(Args&&... args) : policies_{Ps(std::forward<Args>(args))...} {}
  // clang-format on

  /// Number of policies.
  static constexpr std::size_t size() noexcept { return sizeof...(Ps); }
  /// The state layout of this chain's policies.
  static state_layout layout() noexcept { return {layout_.entries, layout_.size}; }

  /// The policy at position `I`.
  template <std::size_t I>
  const auto& get() const noexcept {
    return std::get<I>(policies_);
  }

  /// Runs the request head phase, first policy to last.
  outcome run_request_head(exchange& ex) const {
    detail::chain_access::ensure_states(ex, layout());
    if (detail::chain_access::request_closed(ex)) return verdict::respond;
    return run_forward<phase::request_head, 0, false>(ex, nullptr, {});
  }
  /// Runs the request body phase on one piece of the body, first policy to last.
  outcome run_request_body(exchange& ex, body_chunk& chunk) const {
    detail::chain_access::ensure_states(ex, layout());
    if (detail::chain_access::request_closed(ex)) return verdict::respond;
    return run_forward<phase::request_body, 0, false>(ex, &chunk, {});
  }
  /// Runs the response head phase, last policy to first (see the contract for which run).
  outcome run_response_head(exchange& ex) const {
    detail::chain_access::ensure_states(ex, layout());
    if (detail::chain_access::response_final(ex)) return verdict::continue_;
    return run_reverse<phase::response_head, sizeof...(Ps), false>(ex, nullptr, {});
  }
  /// Runs the response body phase on one piece of the body, last policy to first.
  outcome run_response_body(exchange& ex, body_chunk& chunk) const {
    detail::chain_access::ensure_states(ex, layout());
    if (detail::chain_access::response_final(ex)) return verdict::continue_;
    return run_reverse<phase::response_body, sizeof...(Ps), false>(ex, &chunk, {});
  }
  /// Runs the request trailers phase (on `exchange::request_trailers`), first policy to last.
  outcome run_request_trailers(exchange& ex) const {
    detail::chain_access::ensure_states(ex, layout());
    if (detail::chain_access::request_closed(ex)) return verdict::respond;
    return run_forward<phase::request_trailers, 0, false>(ex, nullptr, {});
  }
  /// Runs the response trailers phase (on `exchange::response_trailers`), last policy to first.
  outcome run_response_trailers(exchange& ex) const {
    detail::chain_access::ensure_states(ex, layout());
    if (detail::chain_access::response_final(ex)) return verdict::continue_;
    return run_reverse<phase::response_trailers, sizeof...(Ps), false>(ex, nullptr, {});
  }
  /// Runs the log phase of every policy, first to last; sets `timings.end` if still unset.
  void run_log(exchange& ex) const {
    detail::chain_access::ensure_states(ex, layout());
    detail::chain_access::mark_end(ex);
    log_at(ex, {});
  }

 private:
  template <class C>
  friend class detail::static_model;
  using placement = detail::placement;
  using access = detail::chain_access;

  // The phases as one element of an enclosing `chain` runs them, at `at`: that chain has
  // prepared the states and checked the direction is open. Its policies are timed one by
  // one when the exchange is timed (the chain then passes their slots). Timing is a template
  // argument, so an untimed exchange pays one branch per phase, not one per policy.
  template <phase Ph>
  outcome run_at(exchange& ex, body_chunk* chunk, placement at) const {
    const bool timed = at.slots != nullptr && access::timing(ex) != nullptr;
    if constexpr (is_request_phase(Ph)) {
      if (timed) return run_forward<Ph, 0, true>(ex, chunk, at);
      return run_forward<Ph, 0, false>(ex, chunk, at);
    } else {
      if (timed) return run_reverse<Ph, sizeof...(Ps), true>(ex, chunk, at);
      return run_reverse<Ph, sizeof...(Ps), false>(ex, chunk, at);
    }
  }
  void log_at(exchange& ex, placement at) const {
    std::exception_ptr first;
    if (at.slots != nullptr && access::timing(ex) != nullptr)
      log_from<0, true>(ex, first, at);
    else
      log_from<0, false>(ex, first, at);
    if (first) std::rethrow_exception(first);
  }

  template <std::size_t I>
  using policy_at = std::tuple_element_t<I, std::tuple<Ps...>>;

  template <std::size_t I>
  static state_t<policy_at<I>>& state(exchange& ex, placement at) noexcept {
    if constexpr (has_state<policy_at<I>>) {
      return detail::chain_access::states(ex).template get<state_t<policy_at<I>>>(
          at.state_offset + layout_.offsets[I]);
    } else {
      static no_state none;  // empty: never read or written
      return none;
    }
  }

  // True when a result of the policy at `index` (counted in the enclosing chain, if any)
  // answered; marks the exchange accordingly.
  template <phase Ph>
  static bool responded(exchange& ex, verdict v, std::size_t index) {
    if (v != verdict::respond) return false;
    if constexpr (is_request_phase(Ph))
      detail::chain_access::request_responded(ex, index);
    else
      detail::chain_access::response_responded(ex);
    return true;
  }

  // The time a timed call starts at; nothing is read when untimed.
  template <bool Timed>
  static clock::time_point started([[maybe_unused]] const exchange& ex) noexcept {
    if constexpr (Timed) return access::now(ex);
    return {};
  }
  template <bool Timed, phase Ph, std::size_t I>
  static void timed([[maybe_unused]] exchange& ex, [[maybe_unused]] placement at,
                    [[maybe_unused]] phase_mode mode, [[maybe_unused]] clock::time_point since) {
    if constexpr (Timed) access::record_time(ex, at.slots[I], Ph, mode, since);
  }

  template <phase Ph, std::size_t I, bool Timed>
  outcome run_forward(exchange& ex, body_chunk* chunk, placement at) const {
    if constexpr (I == sizeof...(Ps)) {
      return verdict::continue_;
    } else {
      if constexpr (implements<Ph, policy_at<I>>) {
        using R = detail::phase_result_t<Ph, policy_at<I>>;
        const auto& p = std::get<I>(policies_);
        const clock::time_point since = started<Timed>(ex);
        if constexpr (std::is_same_v<R, verdict>) {
          verdict v = detail::call_phase<Ph>(p, ex, state<I>(ex, at), chunk);
          timed<Timed, Ph, I>(ex, at, phase_mode::sync, since);
          if (responded<Ph>(ex, v, at.first + I)) return verdict::respond;
        } else {
          outcome o = detail::run_phase<Ph>(p, ex, state<I>(ex, at), chunk);
          if (!o.ready()) return resume_forward<Ph, I, Timed>(ex, chunk, at, std::move(o), since);
          timed<Timed, Ph, I>(ex, at, phase_mode::sync, since);
          if (responded<Ph>(ex, o.value(), at.first + I)) return verdict::respond;
        }
      }
      return run_forward<Ph, I + 1, Timed>(ex, chunk, at);
    }
  }

  template <phase Ph, std::size_t I, bool Timed>
  asio::awaitable<verdict> resume_forward(exchange& ex, body_chunk* chunk, placement at,
                                          outcome pending, clock::time_point since) const {
    verdict v = co_await std::move(pending).awaitable();
    timed<Timed, Ph, I>(ex, at, phase_mode::async, since);
    if (responded<Ph>(ex, v, at.first + I)) co_return verdict::respond;
    outcome rest = run_forward<Ph, I + 1, Timed>(ex, chunk, at);
    // Not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
    if (rest.ready()) co_return rest.value();
    co_return co_await std::move(rest).awaitable();
  }

  // Runs policies Remaining-1 down to 0, skipping those the response does not reach.
  template <phase Ph, std::size_t Remaining, bool Timed>
  outcome run_reverse(exchange& ex, body_chunk* chunk, placement at) const {
    if constexpr (Remaining == 0) {
      return verdict::continue_;
    } else {
      constexpr std::size_t i = Remaining - 1;
      if constexpr (implements<Ph, policy_at<i>>) {
        if (at.first + i < detail::chain_access::response_depth(ex)) {
          using R = detail::phase_result_t<Ph, policy_at<i>>;
          const auto& p = std::get<i>(policies_);
          const clock::time_point since = started<Timed>(ex);
          if constexpr (std::is_same_v<R, verdict>) {
            verdict v = detail::call_phase<Ph>(p, ex, state<i>(ex, at), chunk);
            timed<Timed, Ph, i>(ex, at, phase_mode::sync, since);
            if (responded<Ph>(ex, v, at.first + i)) return verdict::respond;
          } else {
            outcome o = detail::run_phase<Ph>(p, ex, state<i>(ex, at), chunk);
            if (!o.ready()) return resume_reverse<Ph, i, Timed>(ex, chunk, at, std::move(o), since);
            timed<Timed, Ph, i>(ex, at, phase_mode::sync, since);
            if (responded<Ph>(ex, o.value(), at.first + i)) return verdict::respond;
          }
        }
      }
      return run_reverse<Ph, i, Timed>(ex, chunk, at);
    }
  }

  template <phase Ph, std::size_t I, bool Timed>
  asio::awaitable<verdict> resume_reverse(exchange& ex, body_chunk* chunk, placement at,
                                          outcome pending, clock::time_point since) const {
    verdict v = co_await std::move(pending).awaitable();
    timed<Timed, Ph, I>(ex, at, phase_mode::async, since);
    if (responded<Ph>(ex, v, at.first + I)) co_return verdict::respond;
    outcome rest = run_reverse<Ph, I, Timed>(ex, chunk, at);
    // Not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
    if (rest.ready()) co_return rest.value();
    co_return co_await std::move(rest).awaitable();
  }

  template <std::size_t I, bool Timed>
  void log_from(exchange& ex, std::exception_ptr& first, placement at) const {
    if constexpr (I < sizeof...(Ps)) {
      if constexpr (implements<phase::log, policy_at<I>>) {
        try {
          const clock::time_point since = started<Timed>(ex);
          detail::call_phase<phase::log>(std::get<I>(policies_), ex, state<I>(ex, at), nullptr);
          timed<Timed, phase::log, I>(ex, at, phase_mode::sync, since);
        } catch (...) {
          if (!first) first = std::current_exception();
        }
      }
      log_from<I + 1, Timed>(ex, first, at);
    }
  }

  static constexpr detail::static_layout<Ps...> layout_ = detail::make_static_layout<Ps...>();

  std::tuple<Ps...> policies_;
};

/// Deduces the policy types from the policies: `static_chain c{request_id{...}, headers{...}};`
template <class... Ps>
static_chain(Ps...) -> static_chain<Ps...>;

}  // namespace gantry::policy
