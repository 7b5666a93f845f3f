// Router match cost at 10, 1 000 and 10 000 routes: a realistic mix of exact paths,
// templates and prefixes spread over an exact host, a wildcard host and the default host.
//
//   build/benchmarks/micro/router_benchmark --benchmark_repetitions=5
//
// Per iteration, one `route_table::match` on the next of 4096 prepared requests (90% hit
// a route, 10% miss), so the caches see many routes. Besides Google Benchmark's mean time,
// each run reports counters:
//   p50_ns, p99_ns      per-match latency percentiles, timed in batches of 16 matches
//   allocs_per_match    heap allocations during matching (must be 0)

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "gantry/route/route_table.hpp"

#include "allocation_counter.hpp"


namespace {

using namespace gantry::route;
using gantry::http::method;

// One request, owning the strings the request_view points at.
struct sample {
  std::string host;
  method verb;
  std::string path;
};

constexpr std::size_t routes_per_service = 10;

// How a request reaches a service's host tier.
std::string host_pattern(std::size_t service) {
  switch (service % 3) {
    case 0:
      return "api.example.com";
    case 1:
      return "*.tenant.example.com";
    default:
      return "";
  }
}

std::string request_host(std::size_t service) {
  switch (service % 3) {
    case 0:
      return "api.example.com";
    case 1:
      return fmt::format("t{}.tenant.example.com", service % 97);
    default:
      return "www.other.test";
  }
}

std::vector<route> make_routes(std::size_t count) {
  std::vector<route> routes;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t service = i / routes_per_service;
    const std::string s = fmt::format("/svc{}", service);
    route r;
    r.name = fmt::format("r{}", i);
    r.match.host = host_pattern(service);
    r.action = proxy{fmt::format("cluster{}", service)};
    switch (i % routes_per_service) {
      case 0:
        r.match.path = path_exact{s + "/v1/items"};
        r.match.methods = {method::get};
        break;
      case 1:
        r.match.path = path_exact{s + "/v1/items"};
        r.match.methods = {method::post};
        break;
      case 2:
        r.match.path = path_template{s + "/v1/items/{id}"};
        break;
      case 3:
        r.match.path = path_template{s + "/v1/items/{id}/history"};
        break;
      case 4:
        r.match.path = path_template{s + "/v1/users/{user}/orders/{order}"};
        break;
      case 5:
        r.match.path = path_exact{s + "/v1/health"};
        break;
      case 6:
        r.match.path = path_exact{s + "/v2/items"};
        break;
      case 7:
        r.match.path = path_template{s + "/v2/items/{id}"};
        r.rewrite = template_rewrite{"/items/{id}"};
        break;
      case 8:
        r.match.path = path_template{s + "/docs/{*page}"};
        break;
      default:
        r.match.path = path_prefix{s + "/assets"};
        break;
    }
    routes.push_back(std::move(r));
  }
  return routes;
}

// A request that hits route `i`, or a miss.
sample make_request(std::size_t i, bool miss, std::mt19937_64& random) {
  const std::size_t service = i / routes_per_service;
  const std::string s = fmt::format("/svc{}", service);
  const std::string id = std::to_string(random() % 1'000'000);
  sample q{request_host(service), method::get, {}};
  if (miss) {
    q.path = s + "/v1/unknown/" + id;
    return q;
  }
  switch (i % routes_per_service) {
    case 0:
      q.path = s + "/v1/items";
      break;
    case 1:
      q.path = s + "/v1/items";
      q.verb = method::post;
      break;
    case 2:
      q.path = s + "/v1/items/" + id;
      break;
    case 3:
      q.path = s + "/v1/items/" + id + "/history";
      break;
    case 4:
      q.path = s + "/v1/users/u" + id + "/orders/" + id;
      break;
    case 5:
      q.path = s + "/v1/health";
      break;
    case 6:
      q.path = s + "/v2/items";
      break;
    case 7:
      q.path = s + "/v2/items/" + id;
      break;
    case 8:
      q.path = s + "/docs/guide/" + id + ".html";
      break;
    default:
      q.path = s + "/assets/img/" + id + ".png";
      break;
  }
  return q;
}

struct fixture {
  route_table table;
  std::vector<sample> samples;
  std::vector<request_view> requests;
};

const fixture& fixture_for(std::size_t count) {
  static std::vector<std::pair<std::size_t, std::unique_ptr<fixture>>> cache;
  for (auto& [n, f] : cache)
    if (n == count) return *f;
  auto f = std::make_unique<fixture>();
  route_table::builder b;
  for (route& r : make_routes(count)) b.add(std::move(r));
  f->table = std::move(b).build();
  std::mt19937_64 random{count};
  for (std::size_t k = 0; k < 4096; ++k)
    f->samples.push_back(make_request(random() % count, random() % 10 == 0, random));
  for (const sample& q : f->samples)
    f->requests.push_back({.host = q.host, .method = q.verb, .path = q.path});
  cache.emplace_back(count, std::move(f));
  return *cache.back().second;
}

void router_match(benchmark::State& state) {
  const fixture& f = fixture_for(static_cast<std::size_t>(state.range(0)));
  const std::size_t mask = f.requests.size() - 1;
  captures params;
  std::size_t next = 0;
  std::size_t hits = 0;
  const std::size_t allocations_before = gantry::bench::allocation_count();
  for (auto _ : state) {
    const route* r = f.table.match(f.requests[next++ & mask], params);
    benchmark::DoNotOptimize(r);
    hits += r != nullptr;
  }
  const std::size_t allocated = gantry::bench::allocation_count() - allocations_before;

  // Latency percentiles: time batches of 16 matches, so the clock's own cost is spread thin.
  constexpr std::size_t batch = 16;
  std::vector<double> per_match;
  per_match.reserve(8192);
  for (std::size_t b = 0; b < 8192; ++b) {
    auto start = std::chrono::steady_clock::now();
    for (std::size_t k = 0; k < batch; ++k)
      benchmark::DoNotOptimize(f.table.match(f.requests[next++ & mask], params));
    auto stop = std::chrono::steady_clock::now();
    per_match.push_back(std::chrono::duration<double, std::nano>(stop - start).count() / batch);
  }
  std::sort(per_match.begin(), per_match.end());
  state.counters["p50_ns"] = per_match[per_match.size() / 2];
  state.counters["p99_ns"] = per_match[per_match.size() * 99 / 100];
  state.counters["allocs_per_match"] =
      static_cast<double>(allocated) / static_cast<double>(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
  state.counters["routes"] = static_cast<double>(f.table.size());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (allocated != 0) state.SkipWithError("route_table::match allocated");
}
BENCHMARK(router_match)->Arg(10)->Arg(1'000)->Arg(10'000);

void router_build(benchmark::State& state) {
  const std::vector<route> routes = make_routes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    route_table::builder b;
    for (const route& r : routes) b.add(r);
    benchmark::DoNotOptimize(std::move(b).build());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(router_build)->Arg(10)->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
