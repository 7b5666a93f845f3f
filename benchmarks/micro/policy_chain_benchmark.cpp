// Cost of one whole exchange through a chain of six built-in policies, as `chain` (run time,
// type-erased) and as `static_chain` (compile time):
//
//   build/benchmarks/micro/policy_chain_benchmark --benchmark_repetitions=5
//
// The chain: request_id (new id and traceparent), three headers policies (request and
// response edits, templates included), access_log (every field, to /dev/null, written by its
// background thread) and metrics. Per iteration: reset, start, the request head as a parser
// would leave it, run_request_head, an upstream response head, run_response_head, run_log.
// `exchange_baseline` does the same with an empty chain: the harness alone. CPU time is the
// process's, so the access log's writer thread is counted too. `policy_chain_timed/N` is the
// run-time chain timing its policies one exchange in N (0: off; `policy_chain_dynamic` runs
// with the metrics policy's default, one in 64).
//
// Counters:
//   p50_ns, p99_ns       per-exchange latency percentiles, timed in batches of 16
//   allocs_per_exchange  heap allocations per exchange once warm (must be 0)
//   dropped_lines        access-log lines dropped because the writer fell behind

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/policy/access_log.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/headers.hpp"
#include "gantry/policy/metrics.hpp"
#include "gantry/policy/request_id.hpp"
#include "gantry/policy/static_chain.hpp"

#include "allocation_counter.hpp"

namespace {

using namespace gantry::policy;

using six = static_chain<request_id, headers, headers, headers, access_log, metrics>;

struct policies {
  request_id ids{request_id_config{}};
  headers forwarding{headers_config{
      .request = {.remove = {"X-Internal"},
                  .rename = {},
                  .set = {{"X-Forwarded-Host", "{host}"}},
                  .add = {}},
      .response = {.remove = {"Server"}, .rename = {}, .set = {{"Via", "1.1 gantry"}}, .add = {}}}};
  headers identity{headers_config{.request = {.remove = {},
                                              .rename = {{"X-Old-Client", "X-Client"}},
                                              .set = {{"X-User-Id", "{id}"}},
                                              .add = {}},
                                  .response = {.remove = {}, .rename = {}, .set = {}, .add = {}}}};
  headers security{
      headers_config{.request = {.remove = {}, .rename = {}, .set = {}, .add = {}},
                     .response = {.remove = {"X-Powered-By"},
                                  .rename = {},
                                  .set = {{"Strict-Transport-Security", "max-age=63072000"},
                                          {"X-Content-Type-Options", "nosniff"}},
                                  .add = {}}}};
  access_log log{access_log_config{.destination = "/dev/null"}};
  metrics counts{metrics_config{.registry = std::make_shared<metrics_registry>(1)}};

  chain dynamic() const {
    chain c;
    c.add(ids).add(forwarding).add(identity).add(security).add(log).add(counts);
    return c;
  }
  six fixed() const { return six{ids, forwarding, identity, security, log, counts}; }
};

const policies& shared_policies() {
  static const policies p;
  return p;
}

// One whole exchange: what the gateway does around the chain, minus the sockets.
template <class Chain>
void one_exchange(const Chain& c, exchange& ex) {
  static const route_param params[] = {{"id", "7"}};
  ex.reset();
  ex.start();
  ex.request.method = gantry::http::method::get;
  ex.request.target.assign("/v1/users/7/orders?limit=20");
  ex.request.fields.add("Host", "api.example.com");
  ex.request.fields.add("User-Agent", "bench/1.0");
  ex.request.fields.add("Accept", "application/json");
  ex.request.fields.add("X-Internal", "secret");
  ex.request.fields.add("X-Old-Client", "mobile");
  ex.params = params;
  ex.route_name = "user-orders";
  ex.cluster = "orders-v2";
  ex.endpoint = "10.0.0.7:8080";
  ex.request_bytes = 180;
  benchmark::DoNotOptimize(c.run_request_head(ex).ready());

  ex.response.status = gantry::http::status::ok;
  ex.response.fields.add("Server", "upstream");
  ex.response.fields.add("X-Powered-By", "php");
  ex.response.fields.add("Content-Type", "application/json");
  ex.response.fields.add("Content-Length", "512");
  ex.accept_upstream_response();
  benchmark::DoNotOptimize(c.run_response_head(ex).ready());

  ex.response_bytes = 640;
  c.run_log(ex);
}

template <class Chain>
void measure(benchmark::State& state, const Chain& c) {
  exchange ex;
  for (int i = 0; i < 1000; ++i) one_exchange(c, ex);  // warm: buffers grown, series made

  const std::size_t allocations_before = gantry::bench::allocation_count();
  for (auto _ : state) one_exchange(c, ex);
  const std::size_t allocated = gantry::bench::allocation_count() - allocations_before;

  constexpr std::size_t batch = 16;
  std::vector<double> per_exchange;
  per_exchange.reserve(4096);
  for (std::size_t b = 0; b < 4096; ++b) {
    auto start = std::chrono::steady_clock::now();
    for (std::size_t k = 0; k < batch; ++k) one_exchange(c, ex);
    auto stop = std::chrono::steady_clock::now();
    per_exchange.push_back(std::chrono::duration<double, std::nano>(stop - start).count() / batch);
  }
  std::sort(per_exchange.begin(), per_exchange.end());
  state.counters["p50_ns"] = per_exchange[per_exchange.size() / 2];
  state.counters["p99_ns"] = per_exchange[per_exchange.size() * 99 / 100];
  state.counters["allocs_per_exchange"] =
      static_cast<double>(allocated) / static_cast<double>(state.iterations());
  state.counters["dropped_lines"] = static_cast<double>(shared_policies().log.dropped_lines());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (allocated != 0) state.SkipWithError("an exchange allocated");
}

void policy_chain_dynamic(benchmark::State& state) {
  const chain c = shared_policies().dynamic();
  measure(state, c);
}
BENCHMARK(policy_chain_dynamic)->MeasureProcessCPUTime();

void policy_chain_static(benchmark::State& state) {
  const six c = shared_policies().fixed();
  measure(state, c);
}
BENCHMARK(policy_chain_static)->MeasureProcessCPUTime();

// Exchanges timed so far, as the registry renders them.
double timed_exchanges(const policy_timing& t) {
  std::string text;
  t.render(text);
  constexpr std::string_view name = "\ngantry_policy_sampled_exchanges_total ";
  const auto at = text.find(name);
  return at == std::string::npos ? 0 : std::stod(text.substr(at + name.size()));
}

void policy_chain_timed(benchmark::State& state) {
  chain c = shared_policies().dynamic();
  const auto& registry = shared_policies().counts.registry();
  c.time_policies({.into = std::shared_ptr<policy_timing>{registry, &registry->policy_times()},
                   .one_in = static_cast<std::uint32_t>(state.range(0))});
  const double timed_before = timed_exchanges(registry->policy_times());
  measure(state, c);
  // Every exchange `measure` ran: its warm-up, the timed loop, and the batches.
  const double exchanges = static_cast<double>(1000 + state.iterations() + 4096 * 16);
  state.counters["timed_fraction"] =
      (timed_exchanges(registry->policy_times()) - timed_before) / exchanges;
}
BENCHMARK(policy_chain_timed)->Arg(0)->Arg(64)->Arg(1)->MeasureProcessCPUTime();

void exchange_baseline(benchmark::State& state) {
  const chain c;
  measure(state, c);
}
BENCHMARK(exchange_baseline)->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
