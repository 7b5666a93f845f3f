#pragma once
/// @file
/// A policy chain built at run time, from configuration: type-erased policies in a vector.

#include <asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "gantry/policy/policy.hpp"

namespace gantry::policy {

namespace detail {

// The type-erased face of a policy: one virtual call per phase it implements.
class erased_policy {
 public:
  virtual ~erased_policy() = default;
  virtual outcome request_head(exchange& ex, void* state) const = 0;
  virtual outcome request_body(exchange& ex, body_chunk& chunk, void* state) const = 0;
  virtual outcome response_head(exchange& ex, void* state) const = 0;
  virtual outcome response_body(exchange& ex, body_chunk& chunk, void* state) const = 0;
  virtual void log(exchange& ex, void* state) const = 0;
};

template <class P>
class erased_model final : public erased_policy {
 public:
  explicit erased_model(P p) : policy_{std::move(p)} {}

  outcome request_head(exchange& ex, void* state) const override {
    return call<phase::request_head>(ex, nullptr, state);
  }
  outcome request_body(exchange& ex, body_chunk& chunk, void* state) const override {
    return call<phase::request_body>(ex, &chunk, state);
  }
  outcome response_head(exchange& ex, void* state) const override {
    return call<phase::response_head>(ex, nullptr, state);
  }
  outcome response_body(exchange& ex, body_chunk& chunk, void* state) const override {
    return call<phase::response_body>(ex, &chunk, state);
  }
  void log(exchange& ex, void* state) const override {
    if constexpr (implements<phase::log, P>)
      call_phase<phase::log>(policy_, ex, as_state(state), nullptr);
  }

  const P& get() const noexcept { return policy_; }

 private:
  template <phase Ph>
  outcome call(exchange& ex, body_chunk* chunk, void* state) const {
    if constexpr (implements<Ph, P>)
      return run_phase<Ph>(policy_, ex, as_state(state), chunk);
    else
      return verdict::continue_;
  }
  static state_t<P>& as_state(void* state) noexcept {
    if constexpr (has_state<P>) {
      return *std::launder(static_cast<state_t<P>*>(state));
    } else {
      static no_state none;  // empty: never read or written
      return none;
    }
  }

  P policy_;
};

}  // namespace detail

/// A policy chain assembled at run time, typically from configuration: policies of any types,
/// type-erased, run in the order they were added (see `policy.hpp` for the contract).
///
/// Build it, then share it read-only: any number of workers may run it at once, each on its
/// own exchanges. Adding a policy while exchanges run is not allowed. Copies share the
/// policy objects.
///
/// ```
/// gantry::policy::chain c;
/// c.add(gantry::policy::request_id_config{})
///  .add(gantry::policy::headers_config{.response = {.set = {{"Server", "gantry"}}}});
/// auto o = c.run_request_head(ex);
/// ```
///
/// Each phase costs one indirect call per policy that implements it (policies without the
/// phase are skipped without a call). `static_chain` removes those calls when the policies are
/// known at compile time; both give identical results.
class chain {
 public:
  chain() = default;

  /// Appends a policy, or builds one from its configuration (`policy_config`) and appends it.
  template <class P>
  chain& add(P&& policy_or_config) {
    using T = std::remove_cvref_t<P>;
    if constexpr (!policy<T> && policy_config<T>) {
      return add(typename T::policy_type(std::forward<P>(policy_or_config)));
    } else {
      static_assert(detail::check_policy<T>());
      link l;
      l.policy = std::make_shared<const detail::erased_model<T>>(std::forward<P>(policy_or_config));
      l.phases = phase_bits<T>();
      if constexpr (has_state<T>) {
        l.state = make_state_entry<state_t<T>>(0);
        l.state_size = sizeof(state_t<T>);
        l.state_align = alignof(state_t<T>);
      }
      push(std::move(l));
      return *this;
    }
  }

  /// Appends every policy of `other`, sharing them: e.g. a listener's chain, then a route's.
  chain& append(const chain& other);

  /// Number of policies.
  std::size_t size() const noexcept { return links_.size(); }
  /// True when the chain has no policies; every phase then continues at once.
  bool empty() const noexcept { return links_.empty(); }
  /// True when at least one policy of the chain implements phase `ph`: an integrator skips
  /// the body phases, and the work of preparing them, when none does.
  bool has_phase(phase ph) const noexcept {
    return (phases_ & (1u << static_cast<unsigned>(ph))) != 0;
  }
  /// The state layout of this chain's policies.
  state_layout layout() const noexcept { return {states_, state_size_}; }

  /// Runs the request head phase, first policy to last.
  outcome run_request_head(exchange& ex) const;
  /// Runs the request body phase on one piece of the body, first policy to last.
  outcome run_request_body(exchange& ex, body_chunk& chunk) const;
  /// Runs the response head phase, last policy to first (see the contract for which run).
  outcome run_response_head(exchange& ex) const;
  /// Runs the response body phase on one piece of the body, last policy to first.
  outcome run_response_body(exchange& ex, body_chunk& chunk) const;
  /// Runs the log phase of every policy, first to last; sets `timings.end` if still unset.
  void run_log(exchange& ex) const;

 private:
  struct link {
    std::shared_ptr<const detail::erased_policy> policy;
    state_entry state{};  // no `construct` when the policy has no state
    std::size_t state_size = 0;
    std::size_t state_align = 1;
    std::uint8_t phases = 0;  // bit (1 << phase) per phase implemented
  };

  // Appends `l`, placing its state (if any) after the others.
  void push(link l);

  template <class T>
  static constexpr std::uint8_t phase_bits() noexcept {
    return static_cast<std::uint8_t>(
        (implements<phase::request_head, T> ? 1u << unsigned(phase::request_head) : 0u) |
        (implements<phase::request_body, T> ? 1u << unsigned(phase::request_body) : 0u) |
        (implements<phase::response_head, T> ? 1u << unsigned(phase::response_head) : 0u) |
        (implements<phase::response_body, T> ? 1u << unsigned(phase::response_body) : 0u) |
        (implements<phase::log, T> ? 1u << unsigned(phase::log) : 0u));
  }

  template <phase Ph>
  outcome run_forward(exchange& ex, body_chunk* chunk, std::size_t from) const;
  template <phase Ph>
  outcome run_reverse(exchange& ex, body_chunk* chunk, std::size_t remaining) const;
  template <phase Ph>
  asio::awaitable<verdict> resume_forward(exchange& ex, body_chunk* chunk, std::size_t index,
                                          outcome pending) const;
  template <phase Ph>
  asio::awaitable<verdict> resume_reverse(exchange& ex, body_chunk* chunk, std::size_t index,
                                          outcome pending) const;
  template <phase Ph>
  outcome call(const link& l, exchange& ex, body_chunk* chunk) const;

  std::vector<link> links_;
  std::vector<state_entry> states_;
  std::size_t state_size_ = 0;
  std::uint8_t phases_ = 0;  // union of the links' phase bits
};

}  // namespace gantry::policy
