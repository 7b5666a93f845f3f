#pragma once
/// @file
/// The policy contract: what a policy is, its phases, and how chains call them.
///
/// ## A policy
///
/// A policy is a class (usually a small struct) with some of these **const** member
/// functions, its *phases*; it implements any subset, at least one:
///
/// | phase            | signature (`R` below)                                  | order    |
/// |------------------|--------------------------------------------------------|----------|
/// | request head     | `R on_request_head(exchange&) const`                   | forward  |
/// | request body     | `R on_request_body(exchange&, body_chunk&) const`      | forward  |
/// | request trailers | `R on_request_trailers(exchange&) const`               | forward  |
/// | response head    | `R on_response_head(exchange&) const`                  | reverse  |
/// | response body    | `R on_response_body(exchange&, body_chunk&) const`     | reverse  |
/// | response trailers| `R on_response_trailers(exchange&) const`              | reverse  |
/// | log              | `void on_log(exchange&) const`                         | forward  |
///
/// `R` is chosen per phase and detected at compile time:
/// - `verdict`: synchronous. The chain calls it like any function: no allocation, no
///   coroutine frame. Most policies decide this way, in nanoseconds.
/// - `asio::awaitable<verdict>`: asynchronous (a Redis call, a JWKS fetch). The chain
///   co_awaits it on the exchange's executor and goes on with the next policy when it resumes.
/// - `outcome`: decided per call: return a `verdict` when the answer is known now, or the
///   awaitable of a coroutine when it is not.
///
/// A policy whose configuration leaves some of its phases with nothing to do may say which do
/// something: a const member `std::uint8_t phases_in_use() const` returning their bits
/// (`phase_bit`). A `chain` then never calls the others, so what is configured but idle costs
/// nothing (a header transform for responses only costs requests no call). Without it, every
/// phase the policy implements is called.
///
/// A policy that keeps per-exchange state declares it as a nested type, `using state = ...;`
/// (default-constructible, not over-aligned). Each phase may then take it as a last parameter,
/// `on_request_head(exchange&, state&)`; a phase that does not need it leaves it out. The chain
/// value-initializes one `state` per policy per exchange in the exchange's `state_store`
/// before the first phase runs, and destroys it on `exchange::reset`: nothing is looked up by
/// name, nothing is global, and the storage is reused exchange after exchange.
///
/// Phases are const because one policy object serves every worker thread at once: its
/// members are configuration, fixed when the chain is built. Anything that changes per
/// exchange goes in `state`; anything shared across exchanges (counters, caches) must be
/// atomic or sharded per worker, and never block.
///
/// A policy is configured by a plain aggregate, so it is as easy to build in C++ as from YAML.
/// A small policy is its own configuration; a built-in one that precomputes things takes its
/// `X_config` aggregate in its constructor, which validates it and throws
/// `std::invalid_argument` naming every problem at once. A config aggregate names its policy
/// with `using policy_type = X;`, so chains accept either.
///
/// ```
/// struct require_header {          // a whole policy
///   std::string name;
///   gantry::policy::verdict on_request_head(gantry::policy::exchange& ex) const {
///     if (ex.request.fields.contains(name)) return gantry::policy::verdict::continue_;
///     return ex.respond(gantry::http::status::bad_request, "missing " + name + "\n");
///   }
/// };
/// ```
///
/// ## The phases of one exchange, for a chain P1, P2, P3
///
/// ```
///  request head    request body*   (upstream)   response head   response body*   log
///  P1 -> P2 -> P3  P1 -> P2 -> P3               P3 -> P2 -> P1  P3 -> P2 -> P1   P1 -> P2 -> P3
///
///  P2 answers in a request phase:   P1 -> P2 (stop); response phases of P1 only; log all three
///  P2 answers in a response phase:  P3 -> P2 (stop); the local response is final; log all three
/// ```
///
/// ## The contract, phase by phase
///
/// - **Order.** Policies run in the order written, the same in every phase. Request phases
///   and log run first to last; response phases run last to first, so the first policy sees
///   the request first and the response last (it wraps all the others).
/// - **continue_** passes the exchange to the next policy, and after the last one to the
///   upstream (request direction) or the client (response direction).
/// - **respond** means the policy put a local response in the exchange with
///   `exchange::respond`. The remaining policies of that direction do not run that phase.
///   A phase that returns `respond` without having called `exchange::respond` gets a local
///   500 in its place.
///   - From a request phase of policy *k*: nothing goes upstream. The local response then
///     goes through the response phases of the policies *before k* only (the ones that passed
///     the request on), in reverse; *k* and those after it never see a response phase. Its
///     body goes through their response body phase as one last piece.
///   - From a response phase: the local response replaces the response and is final: no
///     response phase (head or body) of any policy runs for it. From a response body phase,
///     the gateway sends it if the client has received nothing yet, and otherwise closes the
///     connection, since the response is already broken.
/// - **Suspending** is just an awaitable: nothing else runs for the exchange in that direction
///   until it resumes. The awaitable runs on the executor of the coroutine that awaits the
///   chain (the worker's), so it must not block, and it must finish or be cancelled with it.
/// - **Log** runs once per exchange for every policy of the chain, whatever happened,
///   including policies whose other phases never ran (their state is then as constructed),
///   after the response is complete and off the latency path. It is synchronous: hand slow
///   work (file or network writes) to a queue. An exception from one policy's log does not stop
///   the others'; the first is rethrown after all have run.
/// - **Bodies** go through body phases piece by piece, only when there is a body; the last
///   piece has `end_of_stream`. See `body_chunk` for transforming them.
/// - **Trailers** go through the trailers phase of their direction once, after the body's
///   last piece, when there was a body or trailers: `exchange::request_trailers` or
///   `response_trailers` holds them (empty when none came), to read, edit or add to. With a
///   trailers phase in the chain, a body goes chunked so that they can follow it; an HTTP/1.0
///   client gets none. A local response's trailers are those its policy added after
///   `respond`. Answering there works as from the body phase of the same direction.
/// - **Exceptions.** Phases should not throw on the data path: answer with a status instead.
///   An exception escaping a request or response phase propagates out of the chain's `run_*`
///   (or its awaitable); the gateway answers 500 if it still can, and still runs log.
/// - **Lifetimes.** The exchange, the `body_chunk` passed to a body phase, and the chain
///   itself must outlive a pending outcome; a caller co_awaits it at once.
///
/// - **Time.** A chain may time each phase of each policy on sampled exchanges (see
///   `policy_timing`): nothing a policy needs to do; phases that suspend are timed to their
///   completion.
///
/// Chains come two ways from the same policies: `chain` (built at run time, type-erased) and
/// `static_chain<P...>` (composed at compile time, no virtual calls). They give identical
/// results, and a `static_chain` added to a `chain` is one element of it, its policies still
/// called directly and counted one by one (order, answers, response depth, states, log). One
/// exchange runs one chain: to combine listener-level and route-level policies, build one
/// chain per route with the listener's policies first (`chain::append`).

#include <asio/awaitable.hpp>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "gantry/policy/body_chunk.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/policy/outcome.hpp"
#include "gantry/policy/phase.hpp"
#include "gantry/policy/policy_timing.hpp"
#include "gantry/policy/verdict.hpp"

namespace gantry::policy {

/// The state type of a policy that declares none.
struct no_state {};

// clang-format 14 garbles concepts and requires-clauses: these are laid out by hand.
// clang-format off
namespace detail {
template <class P>
struct state_of {
  using type = no_state;
};
template <class P>
  requires requires { typename P::state; }
struct state_of<P> {
  using type = typename P::state;
};
}  // namespace detail

/// The per-exchange state type a policy declares as `using state = ...;`, else `no_state`.
template <class P>
using state_t = typename detail::state_of<P>::type;

/// True when the policy `P` declares a per-exchange state.
template <class P>
inline constexpr bool has_state = !std::is_same_v<state_t<P>, no_state>;

namespace detail {

// Whether `Self` (const P for a valid phase, P to diagnose a missing const) can run a phase,
// with or without the state argument.
template <class P, class Self>
concept request_head_callable =
    requires(Self& p, exchange& ex, state_t<P>& s) { p.on_request_head(ex, s); } ||
    requires(Self& p, exchange& ex) { p.on_request_head(ex); };
template <class P, class Self>
concept request_body_callable =
    requires(Self& p, exchange& ex, body_chunk& c, state_t<P>& s) {
      p.on_request_body(ex, c, s);
    } || requires(Self& p, exchange& ex, body_chunk& c) { p.on_request_body(ex, c); };
template <class P, class Self>
concept request_trailers_callable =
    requires(Self& p, exchange& ex, state_t<P>& s) { p.on_request_trailers(ex, s); } ||
    requires(Self& p, exchange& ex) { p.on_request_trailers(ex); };
template <class P, class Self>
concept response_trailers_callable =
    requires(Self& p, exchange& ex, state_t<P>& s) { p.on_response_trailers(ex, s); } ||
    requires(Self& p, exchange& ex) { p.on_response_trailers(ex); };
template <class P, class Self>
concept response_head_callable =
    requires(Self& p, exchange& ex, state_t<P>& s) { p.on_response_head(ex, s); } ||
    requires(Self& p, exchange& ex) { p.on_response_head(ex); };
template <class P, class Self>
concept response_body_callable =
    requires(Self& p, exchange& ex, body_chunk& c, state_t<P>& s) {
      p.on_response_body(ex, c, s);
    } || requires(Self& p, exchange& ex, body_chunk& c) { p.on_response_body(ex, c); };
template <class P, class Self>
concept log_callable = requires(Self& p, exchange& ex, state_t<P>& s) { p.on_log(ex, s); } ||
                       requires(Self& p, exchange& ex) { p.on_log(ex); };

template <phase Ph, class P, class Self>
constexpr bool callable() noexcept {
  if constexpr (Ph == phase::request_head) return request_head_callable<P, Self>;
  if constexpr (Ph == phase::request_body) return request_body_callable<P, Self>;
  if constexpr (Ph == phase::request_trailers) return request_trailers_callable<P, Self>;
  if constexpr (Ph == phase::response_trailers) return response_trailers_callable<P, Self>;
  if constexpr (Ph == phase::response_head) return response_head_callable<P, Self>;
  if constexpr (Ph == phase::response_body) return response_body_callable<P, Self>;
  if constexpr (Ph == phase::log) return log_callable<P, Self>;
  return false;
}

}  // namespace detail

/// True when policy `P` implements phase `Ph` as a const member function.
template <phase Ph, class P>
inline constexpr bool implements = detail::callable<Ph, P, const P>();

/// A policy: a class that implements at least one phase (see the file comment for the
/// contract). Chains check a candidate more thoroughly, with readable errors, when it is added.
template <class P>
concept policy = std::is_class_v<P> && std::move_constructible<P> &&
                 (implements<phase::request_head, P> || implements<phase::request_body, P> ||
                  implements<phase::request_trailers, P> ||
                  implements<phase::response_head, P> || implements<phase::response_body, P> ||
                  implements<phase::response_trailers, P> || implements<phase::log, P>);

/// A configuration aggregate that names the policy it builds: `using policy_type = X;`.
template <class C>
concept policy_config = requires { typename C::policy_type; } &&
                        policy<typename C::policy_type> &&
                        std::constructible_from<typename C::policy_type, C>;
// clang-format on

namespace detail {

// Calls phase `Ph` of `p`, passing the state when the phase takes it.
template <phase Ph, class P>
decltype(auto) call_phase(const P& p, exchange& ex, state_t<P>& s, body_chunk* chunk) {
  if constexpr (Ph == phase::request_head) {
    if constexpr (requires { p.on_request_head(ex, s); })
      return p.on_request_head(ex, s);
    else
      return p.on_request_head(ex);
  } else if constexpr (Ph == phase::request_body) {
    if constexpr (requires { p.on_request_body(ex, *chunk, s); })
      return p.on_request_body(ex, *chunk, s);
    else
      return p.on_request_body(ex, *chunk);
  } else if constexpr (Ph == phase::request_trailers) {
    if constexpr (requires { p.on_request_trailers(ex, s); })
      return p.on_request_trailers(ex, s);
    else
      return p.on_request_trailers(ex);
  } else if constexpr (Ph == phase::response_trailers) {
    if constexpr (requires { p.on_response_trailers(ex, s); })
      return p.on_response_trailers(ex, s);
    else
      return p.on_response_trailers(ex);
  } else if constexpr (Ph == phase::response_head) {
    if constexpr (requires { p.on_response_head(ex, s); })
      return p.on_response_head(ex, s);
    else
      return p.on_response_head(ex);
  } else if constexpr (Ph == phase::response_body) {
    if constexpr (requires { p.on_response_body(ex, *chunk, s); })
      return p.on_response_body(ex, *chunk, s);
    else
      return p.on_response_body(ex, *chunk);
  } else {
    if constexpr (requires { p.on_log(ex, s); })
      return p.on_log(ex, s);
    else
      return p.on_log(ex);
  }
}

template <phase Ph, class P>
using phase_result_t =
    decltype(call_phase<Ph>(std::declval<const P&>(), std::declval<exchange&>(),
                            std::declval<state_t<P>&>(), static_cast<body_chunk*>(nullptr)));

template <class R>
inline constexpr bool is_phase_result =
    std::is_same_v<R, verdict> || std::is_same_v<R, asio::awaitable<verdict>> ||
    std::is_same_v<R, outcome>;

template <phase Ph, class P>
consteval bool check_phase() {
  if constexpr (implements<Ph, P>) {
    using R = phase_result_t<Ph, P>;
    if constexpr (Ph == phase::log) {
      static_assert(std::is_void_v<R>,
                    "a policy's on_log must return void: log is synchronous, hand slow work "
                    "to a queue");
    } else {
      static_assert(is_phase_result<R>,
                    "a policy phase must return gantry::policy::verdict (synchronous), "
                    "asio::awaitable<gantry::policy::verdict> (asynchronous) or "
                    "gantry::policy::outcome (either, decided per call)");
    }
  } else {
    static_assert(!callable<Ph, P, P>(),
                  "a policy phase must be a const member function: one policy object serves "
                  "every worker at once; keep per-exchange data in `using state = ...;`");
  }
  return true;
}

// Checks `P` against the contract with readable errors; true when it passes.
template <class P>
consteval bool check_policy() {
  static_assert(std::is_class_v<P>, "a policy is a class type");
  static_assert(std::move_constructible<P>, "a policy must be move-constructible");
  static_assert(policy<P> || !std::is_class_v<P>,
                "a policy must implement at least one of on_request_head, on_request_body, "
                "on_request_trailers, on_response_head, on_response_body, on_response_trailers "
                "or on_log, as const member functions "
                "(see gantry/policy/policy.hpp)");
  check_phase<phase::request_head, P>();
  check_phase<phase::request_body, P>();
  check_phase<phase::request_trailers, P>();
  check_phase<phase::response_head, P>();
  check_phase<phase::response_body, P>();
  check_phase<phase::response_trailers, P>();
  check_phase<phase::log, P>();
  if constexpr (has_state<P>) {
    static_assert(std::is_default_constructible_v<state_t<P>>,
                  "a policy's state must be default-constructible");
    static_assert(std::is_nothrow_destructible_v<state_t<P>>,
                  "a policy's state must be nothrow-destructible");
    static_assert(alignof(state_t<P>) <= alignof(std::max_align_t),
                  "a policy's state may not be over-aligned");
  }
  return true;
}

// Where an element of a `chain` sits in it: the index of its first policy (response depth
// counts policies, and an element may hold several: a `static_chain`) and the offset of its
// states in the exchange's store.
// When the exchange is timed, `slots` holds the element's policies' `policy_timing` slots.
struct placement {
  std::uint32_t first = 0;
  std::uint32_t state_offset = 0;
  const std::uint32_t* slots = nullptr;
};

// What chains may see and change in an exchange beyond its public fields.
struct chain_access {
  static state_store& states(exchange& ex) noexcept { return ex.states_; }
  static void ensure_states(exchange& ex, const state_layout& layout) {
    if (!ex.states_.prepared()) ex.states_.prepare(layout);
  }
  // The request direction is over: a request phase answered locally.
  static bool request_closed(const exchange& ex) noexcept {
    return ex.response_depth_ != exchange::all_policies;
  }
  // How many policies, from the first, run the response phases.
  static std::uint32_t response_depth(const exchange& ex) noexcept { return ex.response_depth_; }
  static bool response_final(const exchange& ex) noexcept { return ex.response_final_; }

  // Policy `index` answered in a request phase.
  static void request_responded(exchange& ex, std::size_t index) {
    ensure_local(ex);
    if (index < ex.response_depth_) ex.response_depth_ = static_cast<std::uint32_t>(index);
  }
  // A policy answered in a response phase.
  static void response_responded(exchange& ex) {
    ensure_local(ex);
    ex.response_final_ = true;
  }
  static void mark_end(exchange& ex) noexcept {
    if (ex.timings.end == clock::time_point{}) ex.timings.end = ex.clock_->now();
  }

  // Where the exchange's policy phases are timed into, or null when it is not sampled.
  static policy_timing* timing(const exchange& ex) noexcept { return ex.timed_into_; }
  // Decides once per exchange, at the first phase a timing chain runs, whether it is timed.
  static void decide_timing(exchange& ex, const chain_timing& t) noexcept {
    if (ex.timing_decided_) return;
    ex.timing_decided_ = true;
    if (t.into->sample(ex.worker, t.one_in)) ex.timed_into_ = t.into.get();
  }
  // The exchange's clock: what timed phases are measured with, so tests can fake it.
  static clock::time_point now(const exchange& ex) noexcept { return ex.clock_->now(); }
  // Records a call of `ph` by the policy of `slot`, from `started` to now; the exchange is
  // timed.
  static void record_time(exchange& ex, std::uint32_t slot, phase ph, phase_mode mode,
                          clock::time_point started) {
    ex.timed_into_->record(
        ex.worker, slot, ph, mode,
        std::chrono::duration_cast<std::chrono::nanoseconds>(ex.clock_->now() - started));
  }

 private:
  static void ensure_local(exchange& ex) {
    if (ex.origin_ != response_origin::local) {
      (void)ex.respond(http::status::internal_server_error);
    }
  }
};

// Runs a phase and wraps its result, whatever the form, in an outcome.
template <phase Ph, class P>
outcome run_phase(const P& p, exchange& ex, state_t<P>& s, body_chunk* chunk) {
  return outcome{call_phase<Ph>(p, ex, s, chunk)};
}

}  // namespace detail

}  // namespace gantry::policy
