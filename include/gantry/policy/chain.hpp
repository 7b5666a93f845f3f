#pragma once
/// @file
/// A policy chain built at run time, from configuration: type-erased policies in a vector.

#include <asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "gantry/policy/policy.hpp"
#include "gantry/policy/policy_timing.hpp"
#include "gantry/policy/static_chain.hpp"

namespace gantry::policy {

namespace detail {

// The type-erased face of a chain element: one virtual call per phase it implements. An
// element is one policy, or a whole `static_chain`; `at` says where it sits in the chain.
class erased_policy {
 public:
  virtual ~erased_policy() = default;
  virtual outcome request_head(exchange& ex, placement at) const = 0;
  virtual outcome request_body(exchange& ex, body_chunk& chunk, placement at) const = 0;
  virtual outcome response_head(exchange& ex, placement at) const = 0;
  virtual outcome response_body(exchange& ex, body_chunk& chunk, placement at) const = 0;
  virtual outcome request_trailers(exchange& ex, placement at) const = 0;
  virtual outcome response_trailers(exchange& ex, placement at) const = 0;
  virtual void log(exchange& ex, placement at) const = 0;
  // What the element's policy (the first of a static chain's that asks) asks of the chains
  // it is on: that they time their policies (see `policy_timing`).
  virtual chain_timing timing_asked() const = 0;
};

// A policy that asks the chains it is on to time their policies.
template <class P>
concept asks_for_timing = requires(const P& p) {
  { p.timing_for_chains() } -> std::convertible_to<chain_timing>;
};

template <class P>
chain_timing timing_asked_by(const P& p) {
  if constexpr (asks_for_timing<P>)
    return p.timing_for_chains();
  else
    return {};
}

// The name of a type as the compiler spells it ("gantry::policy::request_id"): the name a
// policy is reported under when the configuration gives it none.
template <class T>
constexpr std::string_view type_name() noexcept {
  // GCC: "... type_name() [with T = X; std::string_view = ...]"; Clang: "... [T = X]".
  constexpr std::string_view pretty = __PRETTY_FUNCTION__;
  constexpr std::size_t from = pretty.find("T = ") + 4;
  constexpr std::size_t to = pretty.find_first_of(";]", from);
  return pretty.substr(from, to - from);
}

// One policy. The chain marks the exchange when it answers.
template <class P>
class erased_model final : public erased_policy {
 public:
  explicit erased_model(P p) : policy_{std::move(p)} {}

  outcome request_head(exchange& ex, placement at) const override {
    return call<phase::request_head>(ex, nullptr, at);
  }
  outcome request_body(exchange& ex, body_chunk& chunk, placement at) const override {
    return call<phase::request_body>(ex, &chunk, at);
  }
  outcome response_head(exchange& ex, placement at) const override {
    return call<phase::response_head>(ex, nullptr, at);
  }
  outcome response_body(exchange& ex, body_chunk& chunk, placement at) const override {
    return call<phase::response_body>(ex, &chunk, at);
  }
  outcome request_trailers(exchange& ex, placement at) const override {
    return call<phase::request_trailers>(ex, nullptr, at);
  }
  outcome response_trailers(exchange& ex, placement at) const override {
    return call<phase::response_trailers>(ex, nullptr, at);
  }
  void log(exchange& ex, placement at) const override {
    if constexpr (implements<phase::log, P>)
      call_phase<phase::log>(policy_, ex, as_state(ex, at), nullptr);
  }
  chain_timing timing_asked() const override { return timing_asked_by(policy_); }

  const P& get() const noexcept { return policy_; }

 private:
  template <phase Ph>
  outcome call(exchange& ex, body_chunk* chunk, placement at) const {
    if constexpr (implements<Ph, P>)
      return run_phase<Ph>(policy_, ex, as_state(ex, at), chunk);
    else
      return verdict::continue_;
  }
  static state_t<P>& as_state(exchange& ex, placement at) noexcept {
    if constexpr (has_state<P>) {
      return chain_access::states(ex).template get<state_t<P>>(at.state_offset);
    } else {
      static no_state none;  // empty: never read or written
      return none;
    }
  }

  P policy_;
};

template <class P>
inline constexpr state_entry state_entry_of = make_state_entry<state_t<P>>(0);

// A whole `static_chain` as one element: its policies are called directly, one after the
// other, by the static chain's own code. It marks the exchange itself when one of its
// policies answers, counting from `at.first`.
template <class... Ps>
class static_model<static_chain<Ps...>> final : public erased_policy {
 public:
  explicit static_model(static_chain<Ps...> c) : chain_{std::move(c)} {}

  outcome request_head(exchange& ex, placement at) const override {
    return chain_.template run_at<phase::request_head>(ex, nullptr, at);
  }
  outcome request_body(exchange& ex, body_chunk& chunk, placement at) const override {
    return chain_.template run_at<phase::request_body>(ex, &chunk, at);
  }
  outcome response_head(exchange& ex, placement at) const override {
    return chain_.template run_at<phase::response_head>(ex, nullptr, at);
  }
  outcome response_body(exchange& ex, body_chunk& chunk, placement at) const override {
    return chain_.template run_at<phase::response_body>(ex, &chunk, at);
  }
  outcome request_trailers(exchange& ex, placement at) const override {
    return chain_.template run_at<phase::request_trailers>(ex, nullptr, at);
  }
  outcome response_trailers(exchange& ex, placement at) const override {
    return chain_.template run_at<phase::response_trailers>(ex, nullptr, at);
  }
  void log(exchange& ex, placement at) const override { chain_.log_at(ex, at); }
  chain_timing timing_asked() const override {
    return std::apply(
        [](const Ps&... p) {
          chain_timing asked;
          ((asked.on() ? void() : void(asked = timing_asked_by(p))), ...);
          return asked;
        },
        chain_.policies_);
  }

  // The names its policies are reported under, by default: their types.
  static std::vector<std::string> default_names() { return {std::string{type_name<Ps>()}...}; }

 private:
  static_chain<Ps...> chain_;
};

// Bit (1 << phase) for each phase a policy implements; for a static chain, any of its policies.
template <class T>
inline constexpr std::uint8_t phase_bits = static_cast<std::uint8_t>(
    (implements<phase::request_head, T> ? 1u << unsigned(phase::request_head) : 0u) |
    (implements<phase::request_body, T> ? 1u << unsigned(phase::request_body) : 0u) |
    (implements<phase::request_trailers, T> ? 1u << unsigned(phase::request_trailers) : 0u) |
    (implements<phase::response_head, T> ? 1u << unsigned(phase::response_head) : 0u) |
    (implements<phase::response_body, T> ? 1u << unsigned(phase::response_body) : 0u) |
    (implements<phase::response_trailers, T> ? 1u << unsigned(phase::response_trailers) : 0u) |
    (implements<phase::log, T> ? 1u << unsigned(phase::log) : 0u));
template <class... Ps>
inline constexpr std::uint8_t phase_bits<static_chain<Ps...>> =
    static_cast<std::uint8_t>((0u | ... | phase_bits<Ps>));

template <class T>
inline constexpr bool is_static_chain = false;
template <class... Ps>
inline constexpr bool is_static_chain<static_chain<Ps...>> = true;

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
/// known at compile time; both give identical results. A `static_chain` added to a chain is
/// one element of it: one indirect call per phase for the whole static chain, whose policies
/// are then called directly. That is how a gateway serves one.
class chain {
 public:
  chain() = default;

  /// A chain of the policies of `policies`, composed at compile time: they stay one element,
  /// called without virtual calls between them. Implicit, so a `static_chain` goes wherever
  /// a chain does (`gateway::policy`, `route::route::chain`).
  template <class... Ps>
  chain(static_chain<Ps...> policies) {  // NOLINT(google-explicit-constructor)
    add(std::move(policies));
  }

  /// Appends a policy, or builds one from its configuration (`policy_config`) and appends it,
  /// or appends a `static_chain`'s policies as one element (they run exactly as they would
  /// one by one: same order, same answers, same response depth, their own states).
  template <class P>
  chain& add(P&& policy_or_config) {
    using T = std::remove_cvref_t<P>;
    if constexpr (detail::is_static_chain<T>) {
      if constexpr (T::size() > 0) {
        link l;
        l.policy =
            std::make_shared<const detail::static_model<T>>(std::forward<P>(policy_or_config));
        l.phases = detail::phase_bits<T>;
        l.count = static_cast<std::uint32_t>(T::size());
        l.states = T::layout();
        l.state_align = alignof(std::max_align_t);  // the static layout's offsets start at 0
        l.names = detail::static_model<T>::default_names();
        l.times_itself = true;
        push(std::move(l));
      }
      return *this;
    } else if constexpr (!policy<T> && policy_config<T>) {
      return add(typename T::policy_type(std::forward<P>(policy_or_config)));
    } else {
      static_assert(detail::check_policy<T>());
      link l;
      auto model =
          std::make_shared<const detail::erased_model<T>>(std::forward<P>(policy_or_config));
      l.phases = detail::phase_bits<T>;
      if constexpr (requires(const T& p) { p.phases_in_use(); })
        l.phases &= static_cast<std::uint8_t>(model->get().phases_in_use());
      l.policy = std::move(model);
      l.names = {std::string{detail::type_name<T>()}};
      if constexpr (has_state<T>) {
        l.states = {{&detail::state_entry_of<T>, 1}, sizeof(state_t<T>)};
        l.state_align = alignof(state_t<T>);
      }
      push(std::move(l));
      return *this;
    }
  }

  /// Appends every policy of `other`, sharing them: e.g. a listener's chain, then a route's.
  chain& append(const chain& other);
  /// Appends every policy of `other` as `append` does, reporting them under `name` (as the
  /// configuration calls them): `name` for a chain of one policy, "name[0]", "name[1]", ...
  /// for each of several. The gateway appends named policies this way.
  chain& append(const chain& other, std::string_view name);

  /// The name the policy at `index` (counted as `size` counts) is reported under: its
  /// configuration name when it was appended under one, else its type as the compiler
  /// spells it ("gantry::policy::request_id").
  std::string_view policy_name(std::size_t index) const noexcept;

  /// Times the policies of this chain, each phase of each one, into `timing.into`, one
  /// exchange in `timing.one_in` per worker (see `policy_timing`); `one_in == 0` turns timing
  /// off. Without this, a chain times its policies when one of them asks for it (the
  /// `metrics` policy, per `metrics_config::policy_time_sampling`), and the first that asks
  /// decides; chains appended carry their timing with them.
  chain& time_policies(chain_timing timing);
  /// How this chain times its policies; `on()` is false when it does not.
  const chain_timing& timing() const noexcept { return timing_; }

  /// Number of policies (those of a `static_chain` added count one each).
  std::size_t size() const noexcept { return policies_; }
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
  /// Runs the request trailers phase (on `exchange::request_trailers`), first policy to last.
  outcome run_request_trailers(exchange& ex) const;
  /// Runs the response trailers phase (on `exchange::response_trailers`), last policy to
  /// first.
  outcome run_response_trailers(exchange& ex) const;
  /// Runs the log phase of every policy, first to last; sets `timings.end` if still unset.
  void run_log(exchange& ex) const;

 private:
  struct link {
    std::shared_ptr<const detail::erased_policy> policy;
    detail::placement at{};   // set by push
    std::uint32_t count = 1;  // policies in the element: more for a static_chain
    state_layout states{};    // offsets from the element's own start; empty without state
    std::size_t state_align = 1;
    std::uint8_t phases = 0;           // bit (1 << phase) per phase implemented
    bool times_itself = false;         // a static chain, which times its own policies
    std::vector<std::string> names;    // one per policy, for reports
    std::vector<std::uint32_t> slots;  // one per policy, in `timing_.into`, when timing is on
  };

  // Appends `l`, placing it after the others: its first policy's index, its states, its
  // timing slots; adopts the timing its policy asks for when the chain has none yet.
  void push(link l);
  // Starts timing into `timing`, resolving every link's slots.
  void adopt(chain_timing timing);
  void resolve_slots(link& l) const;
  // Prepares the exchange for a phase: states, and whether it is timed.
  void begin(exchange& ex) const;
  bool timed(const exchange& ex) const noexcept {
    return timing_.into != nullptr && detail::chain_access::timing(ex) == timing_.into.get();
  }
  // The index of the policy to mark when element `l` answers.
  static std::size_t answering(const link& l) noexcept;
  // How many links, from the first, the response phases reach.
  std::size_t links_reached(const exchange& ex) const noexcept;

  // Timing is a template argument, so an exchange that is not timed pays one branch per
  // phase, never a clock read.
  template <phase Ph, bool Timed>
  outcome run_forward(exchange& ex, body_chunk* chunk, std::size_t from) const;
  template <phase Ph, bool Timed>
  outcome run_reverse(exchange& ex, body_chunk* chunk, std::size_t remaining) const;
  template <phase Ph, bool Timed>
  asio::awaitable<verdict> resume_forward(exchange& ex, body_chunk* chunk, std::size_t index,
                                          outcome pending, clock::time_point since) const;
  template <phase Ph, bool Timed>
  asio::awaitable<verdict> resume_reverse(exchange& ex, body_chunk* chunk, std::size_t index,
                                          outcome pending, clock::time_point since) const;
  template <phase Ph, bool Timed>
  outcome call(const link& l, exchange& ex, body_chunk* chunk) const;
  template <bool Timed>
  void log_all(exchange& ex) const;

  std::vector<link> links_;
  std::vector<state_entry> states_;
  std::size_t state_size_ = 0;
  std::uint32_t policies_ = 0;  // policies in all links
  std::uint8_t phases_ = 0;     // union of the links' phase bits
  chain_timing timing_;         // off unless asked for
};

}  // namespace gantry::policy
