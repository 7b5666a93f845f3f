#pragma once
/// @file
/// The result of running a phase: a verdict now, or an awaitable that yields one later.

#include <asio/awaitable.hpp>
#include <utility>

#include "gantry/policy/verdict.hpp"

namespace gantry::policy {

/// A verdict that is either ready now or pending on an `asio::awaitable<verdict>`.
///
/// Every `run_*` phase call of a chain returns one. When no policy of the phase suspends, the
/// outcome is ready and no coroutine frame was created; only a phase that suspends makes the
/// chain create one (the rest of the chain then runs inside it). A caller that is itself a
/// coroutine settles an outcome with an `if`, awaiting only when it must:
///
/// ```
/// gantry::policy::outcome o = chain.run_request_head(ex);
/// gantry::policy::verdict v = o.value();
/// if (!o.ready()) v = co_await std::move(o).awaitable();
/// ```
///
/// Write it as a statement, not as `o.ready() ? o.value() : co_await ...`: GCC 12
/// miscompiles `co_await` inside a conditional expression (the awaited frame is freed twice).
///
/// A phase may return an outcome as well, to decide at run time whether it suspends: a cache
/// hit answers at once (`return verdict::continue_;`), a miss returns the coroutine that
/// fetches (`return fetch(ex);`).
class [[nodiscard]] outcome {
 public:
  /// A ready outcome. Implicit, so a phase declared to return `outcome` can return a verdict.
  outcome(verdict v) noexcept : verdict_{v} {}  // NOLINT(google-explicit-constructor)
  /// A pending outcome: `pending` yields the verdict when awaited. Implicit, so a phase
  /// declared to return `outcome` can return a coroutine's awaitable.
  outcome(asio::awaitable<verdict> pending) noexcept  // NOLINT(google-explicit-constructor)
      : pending_{std::move(pending)} {}

  outcome(outcome&&) noexcept = default;
  outcome& operator=(outcome&&) noexcept = default;

  /// True when the verdict is known now; false when `awaitable()` must be awaited.
  bool ready() const noexcept { return !pending_.valid(); }
  /// The verdict of a ready outcome.
  verdict value() const noexcept { return verdict_; }
  /// The awaitable of a pending outcome, moved out; co_await it exactly once.
  asio::awaitable<verdict> awaitable() && noexcept { return std::move(pending_); }

 private:
  asio::awaitable<verdict> pending_;
  verdict verdict_ = verdict::continue_;
};

}  // namespace gantry::policy
