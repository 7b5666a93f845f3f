#pragma once
/// @file
/// Measures what a policy chain costs per exchange, on the gateway's own exchange flow.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gantry/http/method.hpp"
#include "gantry/http/status.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/phase.hpp"
#include "gantry/route/action.hpp"

namespace gantry::testing {

/// The synthetic exchange a benchmark repeats.
struct benchmark_exchange {
  http::method method = http::method::get;
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers{{"Host", "bench.example"}};
  /// The exchange's `route_name`, as the gateway sets it for policies and the log.
  std::string route_name{};
  /// Request and response body sizes, in bytes, sent in pieces of `piece_size`.
  std::size_t request_body = 0;
  std::size_t response_body = 0;
  std::size_t piece_size = 16 * 1024;
  /// What the upstream answers, when no policy does.
  http::status status = http::status::ok;
  std::vector<std::pair<std::string, std::string>> response_headers{};
  /// The route's own answer, when it has one (`route_chain::answer`): an exchange no policy
  /// answers then gets it through the response phases instead of going upstream, as in the
  /// gateway.
  std::optional<route::direct_response> answer{};
};

struct benchmark_options {
  /// Exchanges measured in each pass, after `warmup` unmeasured ones.
  std::size_t exchanges = 100'000;
  std::size_t warmup = 2'000;
  /// The program's count of allocations so far, when it keeps one (`gantry-bench` replaces
  /// `operator new` to count); without it, allocations are not reported.
  std::uint64_t (*allocations)() = nullptr;
};

/// Nanoseconds at two percentiles.
struct percentiles {
  double p50 = 0;
  double p99 = 0;
};

/// One phase of one policy, from the timed pass.
struct policy_phase_cost {
  std::string policy;  ///< as the chain reports it (`chain::policy_name`)
  policy::phase phase = policy::phase::request_head;
  bool async = false;             ///< the phase suspended (its time includes the wait)
  double calls_per_exchange = 0;  ///< a body phase runs once per piece
  percentiles ns;                 ///< per call
};

/// What a chain costs per exchange.
struct benchmark_report {
  std::size_t exchanges = 0;
  /// One whole exchange on the flow with the chain: its phases, the body pumps over in-memory
  /// ports, the local or upstream answer, the log phase.
  percentiles exchange_ns;
  /// The same exchange with no policy: what the flow and the ports cost by themselves.
  percentiles bare_ns;
  /// Allocations per exchange, with the chain and without, when the program counts them.
  std::optional<double> allocations;
  std::optional<double> bare_allocations;
  /// Each policy's phases, timed one by one in a pass of their own (timing adds its clock
  /// reads to that pass only).
  std::vector<policy_phase_cost> policies;
  /// How the last exchange ended: its status, and whether the chain answered it itself.
  http::status status = http::status::ok;
  bool local = false;
};

/// Runs `shape` through `chain` on the gateway's exchange flow over in-memory ports (the same
/// flow as `testing::run` and the gateway), `options.exchanges` times per pass, on the calling
/// thread: a pass with the chain, one without, and one with every policy phase timed. Policies
/// that suspend are run to completion on a private `io_context`. State a policy keeps across
/// exchanges (counters, rate limits) sees every exchange of every pass.
///
/// ```
/// auto report = gantry::testing::benchmark_chain(chain, {.target = "/users/7"});
/// std::cout << gantry::testing::describe(report);
/// ```
benchmark_report benchmark_chain(const policy::chain& chain, const benchmark_exchange& shape,
                                 const benchmark_options& options = {});

/// The report as a table: the exchange's percentiles with and without the chain, allocations,
/// and one line per policy phase.
std::string describe(const benchmark_report& report);

}  // namespace gantry::testing
