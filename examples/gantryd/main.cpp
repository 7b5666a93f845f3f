// gantryd: the reference gateway daemon, assembled from the Gantry library.
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <charconv>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "demo_api.hpp"
#include "gantry/gateway/gateway.hpp"
#include "gantry/net/address.hpp"

namespace {

constexpr std::string_view usage = R"(gantryd - the Gantry API gateway

Usage:
  gantryd                      run the built-in demo: the gateway on 127.0.0.1:8080 in
                               front of an in-process demo API (try: curl localhost:8080/)
  gantryd --upstream HOST:PORT[,HOST:PORT...] [options]
                               proxy every request to the upstreams, round robin

Options:
  --listen HOST:PORT           address to serve on (default 127.0.0.1:8080; port 0 picks one)
  --upstream LIST              comma-separated upstream servers
  --workers N                  worker threads (default: one per hardware thread)
  --connect-timeout MS         upstream connect timeout, 504 past it (default 5000)
  --upstream-timeout MS        upstream silence before/while responding, 504 (default 60000)
  --request-head-timeout MS    time to receive a request head, 408 past it (default 10000)
  --body-timeout MS            client silence while reading a body or writing (default 60000)
  --keepalive-timeout MS       idle time between requests on a connection (default 60000)
  --max-connections N          connections per worker (default 10000)
  --max-body BYTES             largest request body, 413 past it (default: no limit)
  --pool-max-idle N            idle upstream connections kept per endpoint (default 64)
  --pool-idle-timeout MS       idle upstream connections closed after (default 30000)
  --pool-max-requests N        exchanges per upstream connection (default 1000)
  --drain-timeout MS           on SIGTERM/SIGINT, time to finish in-flight work (default 30000)
  --quiet                      print only the listening line and errors
  --help                       this text

When ready, gantryd prints one line: "gantryd listening on HOST:PORT".
)";

struct command_line {
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> upstreams;
  gantry::gateway_options options;
  bool quiet = false;
};

std::uint64_t parse_number(std::string_view flag, std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw std::invalid_argument(fmt::format("{} expects a number, got '{}'", flag, text));
  return value;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    auto comma = text.find(',');
    if (auto item = text.substr(0, comma); !item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

command_line parse(int argc, char** argv) {
  command_line cmd;
  auto& o = cmd.options;
  using ms = std::chrono::milliseconds;
  const std::map<std::string_view, std::function<void(std::string_view)>> valued{
      {"--listen", [&](auto v) { cmd.listen = v; }},
      {"--upstream", [&](auto v) { cmd.upstreams = split_list(v); }},
      {"--workers",
       [&](auto v) { o.workers = static_cast<unsigned>(parse_number("--workers", v)); }},
      {"--connect-timeout",
       [&](auto v) { o.upstream.connect_timeout = ms(parse_number("--connect-timeout", v)); }},
      {"--upstream-timeout",
       [&](auto v) { o.upstream.response_timeout = ms(parse_number("--upstream-timeout", v)); }},
      {"--request-head-timeout",
       [&](auto v) {
         o.client.request_head_timeout = ms(parse_number("--request-head-timeout", v));
       }},
      {"--body-timeout",
       [&](auto v) { o.client.body_timeout = ms(parse_number("--body-timeout", v)); }},
      {"--keepalive-timeout",
       [&](auto v) { o.client.keepalive_timeout = ms(parse_number("--keepalive-timeout", v)); }},
      {"--max-connections",
       [&](auto v) { o.client.max_connections = parse_number("--max-connections", v); }},
      {"--max-body",
       [&](auto v) { o.client.request_limits.max_body_size = parse_number("--max-body", v); }},
      {"--pool-max-idle",
       [&](auto v) { o.upstream.pool.max_idle_per_endpoint = parse_number("--pool-max-idle", v); }},
      {"--pool-idle-timeout",
       [&](auto v) { o.upstream.pool.idle_timeout = ms(parse_number("--pool-idle-timeout", v)); }},
      {"--pool-max-requests",
       [&](auto v) {
         o.upstream.pool.max_exchanges_per_connection =
             static_cast<std::uint32_t>(parse_number("--pool-max-requests", v));
       }},
      {"--drain-timeout",
       [&](auto v) { o.drain_timeout = ms(parse_number("--drain-timeout", v)); }},
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool inline_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", usage);
      std::exit(0);
    }
    if (arg == "--quiet") {
      cmd.quiet = true;
      continue;
    }
    auto handler = valued.find(arg);
    if (handler == valued.end())
      throw std::invalid_argument(fmt::format("unknown option '{}' (see --help)", arg));
    if (!inline_value) {
      if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", arg));
      value = argv[++i];
    }
    handler->second(value);
  }
  return cmd;
}

}  // namespace

int main(int argc, char** argv) {
  command_line cmd;
  try {
    cmd = parse(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "gantryd: {}\n", e.what());
    return 2;
  }

  try {
    // The demo API runs on a thread of its own, as a separate service would.
    asio::io_context demo_io{1};
    std::thread demo_thread;
    const bool demo = cmd.upstreams.empty();
    if (demo) {
      auto api = gantry::demo::serve_demo_api(demo_io, gantry::net::resolve_one("127.0.0.1:0"));
      cmd.upstreams.push_back(fmt::format("127.0.0.1:{}", api.port()));
      demo_thread = std::thread{[&] { demo_io.run(); }};
    }

    // Signals are caught before anyone can learn the address and send one.
    asio::io_context signals_io;
    asio::signal_set signals{signals_io, SIGINT, SIGTERM};

    gantry::gateway gw{cmd.options};
    gw.cluster("default", cmd.upstreams);
    auto bound = gw.listen(cmd.listen);
    gw.start();
    fmt::print("gantryd listening on {}:{}\n", bound.address().to_string(), bound.port());
    if (!cmd.quiet) {
      fmt::print("  workers: {}, upstreams: {}{}\n", gw.options().workers,
                 fmt::join(cmd.upstreams, ", "), demo ? " (built-in demo API)" : "");
      if (demo) fmt::print("  try: curl http://localhost:{}/\n", bound.port());
    }
    std::fflush(stdout);

    signals.async_wait([&](std::error_code ec, int) {
      if (ec) return;
      if (!cmd.quiet) fmt::print("gantryd: stopping, draining in-flight requests\n");
      gw.stop();
    });
    std::thread signal_thread{[&] { signals_io.run(); }};
    gw.wait();
    signals_io.stop();
    signal_thread.join();
    demo_io.stop();
    if (demo_thread.joinable()) demo_thread.join();
    if (!cmd.quiet) fmt::print("gantryd: stopped\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "gantryd: {}\n", e.what());
    return 1;
  }
  return 0;
}
