// gantry-bench: what a route's policies cost per exchange. Loads a gantryd configuration,
// takes the chain the gateway would run for a route, and drives synthetic exchanges through
// it on the gateway's exchange flow over in-memory ports (`testing::benchmark_chain`).
#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../number_flag.hpp"
#include "gantry/config/load.hpp"
#include "gantry/gateway/route_chain.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/policy/metrics_registry.hpp"
#include "gantry/testing/chain_benchmark.hpp"

// Every allocation of the program, counted: what a chain allocates per exchange shows as the
// difference between the passes with and without it. (Not under AddressSanitizer, which
// owns operator new: allocations are then not reported.)
#if defined(__SANITIZE_ADDRESS__)
namespace {
constexpr std::uint64_t (*allocations)() = nullptr;
}  // namespace
#else
namespace {
std::atomic<std::uint64_t> allocation_count{0};
std::uint64_t count_of_allocations() { return allocation_count.load(std::memory_order_relaxed); }
constexpr std::uint64_t (*allocations)() = count_of_allocations;
}  // namespace

// Not inlined: GCC would otherwise see free() of operator new's pointer and warn.
[[gnu::noinline]] void* operator new(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc{};
}
[[gnu::noinline]] void* operator new[](std::size_t size) { return operator new(size); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {

constexpr std::string_view usage = R"(gantry-bench - what a route's policies cost per exchange

Usage:
  gantry-bench FILE [options]
      Loads the gantryd configuration FILE, takes the policy chain the gateway runs for a
      route (the listener's policies, then the route's), and drives synthetic exchanges
      through it on the gateway's exchange flow, in memory: no sockets, no upstream.
      Prints nanoseconds per exchange (p50, p99) with the chain and without it,
      allocations per exchange, and each policy's phases timed one by one. What the
      policies themselves write to stdout (an access log) is discarded.

Options:
  --route NAME             the route whose chain runs (default: the route the request
                           matches, as the gateway's route table would pick it)
  --listener NAME          take the route among the routes of the named listener NAME
                           (the file's listeners), not the top-level ones
  --method METHOD          request method (default GET)
  --path TARGET            request target (default /)
  --header 'NAME: VALUE'   a request header; repeat for more (Host: bench.example unless
                           given)
  --body BYTES             request body size (default 0)
  --response-body BYTES    the upstream's response body size (default 0)
  --status CODE            the upstream's status (default 200)
  --piece BYTES            size of body pieces (default 16384)
  --exchanges N            exchanges per pass (default 100000)
  --help                   this text
)";

using gantry_examples::parse_number;

struct command_line {
  std::string file;
  std::optional<std::string> route;
  std::string listener;
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::string> headers;
  gantry::testing::benchmark_exchange shape;
  gantry::testing::benchmark_options options;
};

command_line parse(int argc, char** argv) {
  command_line cmd;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") {
      fmt::print("{}", usage);
      std::exit(0);
    }
    if (!arg.starts_with("--")) {
      if (!cmd.file.empty()) throw std::invalid_argument(fmt::format("unexpected '{}'", arg));
      cmd.file = arg;
      continue;
    }
    if (i + 1 == argc) throw std::invalid_argument(fmt::format("{} needs a value", arg));
    const std::string_view value = argv[++i];
    if (arg == "--route")
      cmd.route = value;
    else if (arg == "--listener")
      cmd.listener = value;
    else if (arg == "--method")
      cmd.method = value;
    else if (arg == "--path")
      cmd.target = value;
    else if (arg == "--header")
      cmd.headers.emplace_back(value);
    else if (arg == "--body")
      cmd.shape.request_body = parse_number(arg, value);
    else if (arg == "--response-body")
      cmd.shape.response_body = parse_number(arg, value);
    else if (arg == "--status")
      cmd.shape.status = static_cast<gantry::http::status>(parse_number(arg, value));
    else if (arg == "--piece")
      cmd.shape.piece_size = parse_number(arg, value);
    else if (arg == "--exchanges")
      cmd.options.exchanges = parse_number(arg, value);
    else
      throw std::invalid_argument(fmt::format("unknown option {}", arg));
  }
  if (cmd.file.empty()) throw std::invalid_argument("which configuration file? (see --help)");
  if (cmd.options.exchanges == 0) throw std::invalid_argument("--exchanges must be at least 1");
  const auto status = static_cast<unsigned>(cmd.shape.status);
  if (status < 200 || status > 599)
    throw std::invalid_argument("--status must be a final status, 200 to 599");
  return cmd;
}

// The request head the flags describe, read by the gateway's own parser, so it is held to
// what a client could send.
gantry::http::request request_of(const command_line& cmd) {
  std::string head = fmt::format("{} {} HTTP/1.1\r\n", cmd.method, cmd.target);
  bool has_host = false;
  for (const std::string& h : cmd.headers) {
    head += h + "\r\n";
    has_host = has_host || (h.size() >= 5 && (h.starts_with("Host:") || h.starts_with("host:")));
  }
  if (!has_host) head += "Host: bench.example\r\n";
  head += "\r\n";
  gantry::http::parser parser{gantry::http::parser_mode::request};
  const auto step = parser.parse(head);
  if (step.event != gantry::http::parse_event::head)
    throw std::invalid_argument(fmt::format(
        "the request the options describe is not valid HTTP ({}): check --method, --path and "
        "--header",
        parser.error().message()));
  return parser.request();
}

// The report's stream: the process's stdout as it was given. Descriptor 1 itself then points
// at /dev/null, so what policies write to stdout (an access log, whenever it flushes) does
// not bury the report.
std::FILE* report_stream() {
  const int report = ::dup(STDOUT_FILENO);
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (report < 0 || null < 0 || ::dup2(null, STDOUT_FILENO) < 0)
    throw std::runtime_error("cannot set stdout aside for the report");
  ::close(null);
  std::FILE* out = ::fdopen(report, "w");
  if (out == nullptr) throw std::runtime_error("cannot open the report's stream");
  return out;
}

int run(const command_line& cmd) {
  gantry::config::load_options load;
  load.metrics = std::make_shared<gantry::policy::metrics_registry>(1);
  gantry::config::document doc = gantry::config::load_file(cmd.file, load);

  const gantry::http::request request = request_of(cmd);
  const gantry::route_chain picked =
      cmd.route ? gantry::chain_of_route(doc.gateway, *cmd.route, cmd.listener)
                : gantry::chain_for_request(doc.gateway, request, cmd.listener);
  gantry::testing::benchmark_exchange shape = cmd.shape;
  shape.route_name = picked.route_name;
  shape.answer = picked.answer;
  shape.method = request.method;
  shape.target = request.target;
  shape.headers.clear();
  for (const gantry::http::field f : request.fields)
    shape.headers.emplace_back(std::string{f.name}, std::string{f.value});
  gantry::testing::benchmark_options options = cmd.options;
  options.allocations = allocations;

  std::FILE* out = report_stream();
  fmt::print(out, "{}: route {} ({} policies); {} {}, request body {} B, response body {} B\n",
             cmd.file, picked.route_name.empty() ? "(none matched)" : '"' + picked.route_name + '"',
             picked.chain.size(), cmd.method, cmd.target, shape.request_body, shape.response_body);
  if (picked.answer)
    fmt::print(out, "the route answers {} itself when no policy does; no upstream is involved\n",
               static_cast<unsigned>(picked.answer->status));
  std::fflush(out);
  const auto report = gantry::testing::benchmark_chain(picked.chain, shape, options);
  fmt::print(out, "{}", gantry::testing::describe(report));
  std::fflush(out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const gantry::config::error& e) {
    fmt::print(stderr, "{}\n", e.what());  // every problem, each with its file and line
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "gantry-bench: {}\n", e.what());
    return 1;
  }
}
