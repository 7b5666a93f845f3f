#include "gantry/testing/chain_benchmark.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "../gateway/exchange_flow_impl.hpp"
#include "../gateway/unobserved_clock.hpp"
#include "gantry/policy/policy_timing.hpp"
#include "gantry/testing/run_awaitable.hpp"
#include "memory_ports.hpp"

namespace gantry::testing {
namespace {

using gantry::detail::memory_downstream;
using gantry::detail::memory_upstream;

std::vector<std::string> pieces_of(std::size_t size, std::size_t piece_size) {
  std::vector<std::string> pieces;
  piece_size = std::max<std::size_t>(piece_size, 1);
  for (std::size_t at = 0; at < size; at += piece_size)
    pieces.emplace_back(std::min(piece_size, size - at), 'x');
  return pieces;
}

template <class Duration>
percentiles percentiles_of(std::vector<Duration> samples) {
  if (samples.empty()) return {};
  auto at = [&](double q) {
    const auto k = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k),
                     samples.end());
    return static_cast<double>(std::chrono::nanoseconds{samples[k]}.count());
  };
  return {at(0.50), at(0.99)};
}

// The exchange, its body pieces and its reply, built once for every pass.
struct workload {
  http::request request;
  std::string route_name;
  std::vector<std::string> request_pieces;
  http::headers request_trailers;
  upstream_reply reply;
  std::optional<route::direct_response> answer;

  explicit workload(const benchmark_exchange& shape) {
    request.method = shape.method;
    request.target = shape.target;
    route_name = shape.route_name;
    for (const auto& [name, value] : shape.headers) request.fields.add(name, value);
    request_pieces = pieces_of(shape.request_body, shape.piece_size);
    reply.status = shape.status;
    reply.headers = shape.response_headers;
    reply.body = pieces_of(shape.response_body, shape.piece_size);
    answer = shape.answer;
  }
};

struct pass {
  std::vector<std::chrono::nanoseconds> took;
  std::uint64_t allocations = 0;
  http::status status = http::status::ok;
  bool local = false;
};

// Runs the workload through `chain` `warmup + exchanges` times, one exchange after another on
// the same flow and ports, as a connection's exchanges run; `measuring` is called when the
// warmup is over.
pass run_pass(const policy::chain& chain, const workload& work, const benchmark_options& options,
              const std::function<void()>& measuring = {}) {
  run_result sink;
  memory_downstream down{work.request_pieces, work.request_trailers, 0, sink};
  memory_upstream up{work.reply, sink, false};
  policy::exchange ex;
  std::string scratch;
  detail::exchange_flow<memory_downstream, memory_upstream> flow{ex, down, up, scratch};
  flow.use(chain, http::proxy_credentials::keep);
  const policy::clock& clock =
      chain.empty() ? static_cast<const policy::clock&>(detail::unobserved) : policy::clock::real();

  pass result;
  result.took.resize(options.exchanges);
  std::uint64_t allocations_before = 0;
  asio::io_context io;
  auto loop = [&]() -> asio::awaitable<void> {
    for (std::size_t i = 0; i < options.warmup + options.exchanges; ++i) {
      if (i == options.warmup) {
        if (measuring) measuring();
        if (options.allocations != nullptr) allocations_before = options.allocations();
      }
      const auto start = std::chrono::steady_clock::now();
      ex.reset();
      ex.request = work.request;
      ex.route_name = work.route_name;
      ex.start(clock);
      down.reset();
      up.reset();
      sink.body.clear();
      sink.upstream_body.clear();
      co_await flow.run([&] {
        if (!work.answer) return flow.forward({});
        ex.respond(work.answer->status, work.answer->body);
        for (http::field f : work.answer->headers) ex.response.fields.add(f.name, f.value);
        return flow.send_local(false);
      });
      flow.end();
      if (i >= options.warmup)
        result.took[i - options.warmup] = std::chrono::steady_clock::now() - start;
    }
    if (options.allocations != nullptr)
      result.allocations = options.allocations() - allocations_before;
  };
  run_awaitable(io, loop(), std::chrono::hours{24});
  result.status = ex.response.status;
  result.local = ex.has_local_response();
  return result;
}

}  // namespace

benchmark_report benchmark_chain(const policy::chain& chain, const benchmark_exchange& shape,
                                 const benchmark_options& options) {
  const workload work{shape};
  benchmark_report report;
  report.exchanges = options.exchanges;
  const double per_exchange =
      1.0 / static_cast<double>(std::max<std::size_t>(options.exchanges, 1));

  const pass with_chain = run_pass(chain, work, options);
  report.exchange_ns = percentiles_of(with_chain.took);
  report.status = with_chain.status;
  report.local = with_chain.local;
  const pass bare = run_pass(policy::chain{}, work, options);
  report.bare_ns = percentiles_of(bare.took);
  if (options.allocations != nullptr) {
    report.allocations = static_cast<double>(with_chain.allocations) * per_exchange;
    report.bare_allocations = static_cast<double>(bare.allocations) * per_exchange;
  }

  // Every phase of every policy timed, its durations kept once the warmup is over.
  auto timing = std::make_shared<policy::policy_timing>(1);
  policy::chain timed = chain;
  timed.time_policies({timing, 1});
  const std::size_t calls_bound =
      options.exchanges * (work.request_pieces.size() + work.reply.body.size() + 2);
  run_pass(timed, work, options, [&] { timing->keep_durations(calls_bound); });
  for (const policy::policy_timing::kept_series& s : timing->kept()) {
    report.policies.push_back({
        .policy = s.policy,
        .phase = s.ph,
        .async = s.mode == policy::phase_mode::async,
        .calls_per_exchange = static_cast<double>(s.took.size()) * per_exchange,
        .ns = percentiles_of(s.took),
    });
  }
  return report;
}

std::string describe(const benchmark_report& r) {
  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{} exchanges per pass; the last answered {} {}\n\n", r.exchanges,
                 static_cast<unsigned>(r.status), r.local ? "locally" : "by the upstream");
  fmt::format_to(it, "{:<28}{:>10}{:>10}\n", "ns per exchange", "p50", "p99");
  fmt::format_to(it, "{:<28}{:>10.0f}{:>10.0f}\n", "  with the chain", r.exchange_ns.p50,
                 r.exchange_ns.p99);
  fmt::format_to(it, "{:<28}{:>10.0f}{:>10.0f}\n", "  no policy (the flow alone)", r.bare_ns.p50,
                 r.bare_ns.p99);
  fmt::format_to(it, "{:<28}{:>10.0f}\n", "  the chain's share", r.exchange_ns.p50 - r.bare_ns.p50);
  if (r.allocations)
    fmt::format_to(it, "\nallocations per exchange: {:.2f} (no policy: {:.2f})\n", *r.allocations,
                   r.bare_allocations.value_or(0));
  if (!r.policies.empty()) {
    fmt::format_to(it, "\n{:<32}{:<16}{:>8}{:>10}{:>10}\n", "policy (timed pass)", "phase", "calls",
                   "p50 ns", "p99 ns");
    for (const policy_phase_cost& p : r.policies) {
      std::string phase{policy::name_of(p.phase)};
      if (p.async) phase += " (async)";
      fmt::format_to(it, "{:<32}{:<16}{:>8.2f}{:>10.0f}{:>10.0f}\n", p.policy, phase,
                     p.calls_per_exchange, p.ns.p50, p.ns.p99);
    }
  }
  return out;
}

}  // namespace gantry::testing
