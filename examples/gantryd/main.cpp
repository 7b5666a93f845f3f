// gantryd: the reference gateway daemon, assembled from the Gantry library.
#include <sys/resource.h>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../number_flag.hpp"
#include "demo_api.hpp"
#include "demo_config.hpp"
#include "gantry/config/load.hpp"
#include "gantry/gateway/gateway.hpp"
#include "gantry/net/address.hpp"
#include "gantry/net/tls_settings.hpp"
#include "gantry/policy/metrics_endpoint.hpp"
#include "gantry/policy/metrics_registry.hpp"

namespace {

constexpr std::string_view usage = R"(gantryd - the Gantry API gateway

Usage:
  gantryd                      run the built-in demo: the gateway on 127.0.0.1:8080 in
                               front of two in-process versions of a demo API, with
                               routing, a canary split, a mock, request ids and an
                               access log on stdout (admin on 127.0.0.1:9901: /metrics,
                               /healthz); try:
                               curl -i localhost:8080/users/7
  gantryd --config FILE        serve what the YAML file FILE says (see docs/configuration.md);
                               reloaded on SIGHUP and when the file changes
  gantryd --check FILE         validate FILE as --config FILE reads it (with --listen, --admin
                               and --workers too), short of serving: print every problem,
                               exit 0 when it is valid
  gantryd --upstream HOST:PORT[,HOST:PORT...] [options]
                               proxy every request to the upstreams, round robin

Options:
  --listen HOST:PORT           address to serve on (default 127.0.0.1:8080; port 0 picks one);
                               with --config, replaces the file's listen addresses
  --admin HOST:PORT            admin listener (/metrics, /healthz); with --config, replaces
                               the file's admin address
  --upstream LIST              comma-separated upstream servers
  --tls-cert FILE              serve HTTPS on the listen address with this certificate chain
                               (PEM); not with --config, whose listen entries say it
  --tls-key FILE               the certificate's private key (PEM)
  --client-ca FILE             with --tls-cert: require client certificates from these CAs
  --upstream-tls               speak TLS to the upstreams, verifying their certificates
                               against the system's CAs (or --upstream-ca)
  --upstream-ca FILE           CAs the upstreams' certificates must chain to (PEM)
  --upstream-server-name NAME  the name their certificates must carry (default: each
                               upstream's host)
  --upstream-cert FILE         a client certificate for upstreams that require one (mTLS)
  --upstream-key FILE          its private key
  --workers N                  worker threads (default: one per hardware thread)
  --connect-timeout MS         upstream connect timeout, 504 past it (default 5000)
  --upstream-timeout MS        upstream silence before/while responding, 504 (default 60000)
  --request-head-timeout MS    time to receive a request head, 408 past it (default 10000)
  --body-timeout MS            client silence while reading a body or writing (default 60000)
  --keepalive-timeout MS       idle time between requests on a connection (default 60000)
  --max-connections N          connections per worker (default 10000)
  --max-total-connections N    connections in all (default: half the fd limit less 64)
  --max-body BYTES             largest request body, 413 past it (default: no limit)
  --pool-max-idle N            idle upstream connections kept per endpoint (default 64)
  --pool-idle-timeout MS       idle upstream connections closed after (default 30000)
  --pool-max-requests N        exchanges per upstream connection (default 1000)
  --drain-timeout MS           on SIGTERM/SIGINT, time to finish in-flight work (default 30000)
  --quiet                      print only the listening lines and errors
  --help                       this text

With --config, timeouts and limits come from the file; the options above that set them are
refused there. When ready, gantryd prints "gantryd listening on HOST:PORT" for each listen
address, "gantryd listener NAME on HOST:PORT" for each address of a named listener and,
with an admin listener, "gantryd admin on HOST:PORT". The admin listener is served by the
same workers as the others.
)";

struct command_line {
  std::optional<std::string> listen;
  std::optional<std::string> admin;
  std::optional<unsigned> workers;
  gantry::net::tls_server_settings tls;
  std::optional<gantry::net::tls_client_settings> upstream_tls;
  std::vector<std::string> upstreams;
  std::string config_file;
  std::string check_file;
  gantry::gateway_options options;
  std::vector<std::string> tuning_flags;  // given flags that set options
  bool quiet = false;
};

using gantry_examples::parse_number;

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

// The CAs the system trusts, as Debian's ca-certificates keeps them.
constexpr std::string_view system_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";

command_line parse(int argc, char** argv) {
  command_line cmd;
  auto upstream_tls = [&]() -> gantry::net::tls_client_settings& {
    if (!cmd.upstream_tls) cmd.upstream_tls.emplace().ca = system_ca_bundle;
    return *cmd.upstream_tls;
  };
  auto& o = cmd.options;
  using ms = std::chrono::milliseconds;
  const std::map<std::string_view, std::function<void(std::string_view)>> general{
      {"--listen", [&](auto v) { cmd.listen = v; }},
      {"--admin", [&](auto v) { cmd.admin = v; }},
      {"--config", [&](auto v) { cmd.config_file = v; }},
      {"--check", [&](auto v) { cmd.check_file = v; }},
      {"--upstream", [&](auto v) { cmd.upstreams = split_list(v); }},
      {"--tls-cert",
       [&](auto v) {
         cmd.tls.certificates.resize(1);
         cmd.tls.certificates[0].cert = v;
       }},
      {"--tls-key",
       [&](auto v) {
         cmd.tls.certificates.resize(1);
         cmd.tls.certificates[0].key = v;
       }},
      {"--upstream-ca", [&](auto v) { upstream_tls().ca = v; }},
      {"--upstream-server-name", [&](auto v) { upstream_tls().server_name = v; }},
      {"--upstream-cert", [&](auto v) { upstream_tls().certificate.cert = v; }},
      {"--upstream-key", [&](auto v) { upstream_tls().certificate.key = v; }},
      {"--client-ca",
       [&](auto v) {
         cmd.tls.client_ca = v;
         cmd.tls.client_certificates = gantry::net::client_certificate_mode::required;
       }},
      {"--workers",
       [&](auto v) { cmd.workers = static_cast<unsigned>(parse_number("--workers", v)); }},
  };
  const std::map<std::string_view, std::function<void(std::string_view)>> tuning{
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
      {"--max-total-connections",
       [&](auto v) {
         o.client.max_total_connections = parse_number("--max-total-connections", v);
       }},
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
    if (arg == "--upstream-tls") {
      upstream_tls();
      continue;
    }
    auto handler = general.find(arg);
    if (handler == general.end()) {
      handler = tuning.find(arg);
      if (handler == tuning.end())
        throw std::invalid_argument(fmt::format("unknown option '{}' (see --help)", arg));
      cmd.tuning_flags.emplace_back(arg);
    }
    if (!inline_value) {
      if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", arg));
      value = argv[++i];
    }
    handler->second(value);
  }
  if (!cmd.config_file.empty() && !cmd.upstreams.empty())
    throw std::invalid_argument("--config and --upstream exclude each other");
  const bool tls = !cmd.tls.certificates.empty() || !cmd.tls.client_ca.empty();
  if (tls && (!cmd.config_file.empty() || !cmd.check_file.empty()))
    throw std::invalid_argument(
        "--tls-cert, --tls-key and --client-ca are for the command line's listener: with "
        "--config, give listen entries tls settings in the file");
  if (cmd.upstream_tls && cmd.upstreams.empty())
    throw std::invalid_argument(
        "--upstream-tls and its options go with --upstream: with --config, give the cluster "
        "tls settings in the file");
  if (tls && (cmd.tls.certificates.empty() || cmd.tls.certificates[0].cert.empty() ||
              cmd.tls.certificates[0].key.empty()))
    throw std::invalid_argument("TLS needs both --tls-cert and --tls-key");
  if (cmd.upstreams.empty() && !cmd.tuning_flags.empty())
    throw std::invalid_argument(fmt::format(
        "{} is set in the configuration file, not on the command line", cmd.tuning_flags[0]));
  return cmd;
}

// Where the served configuration comes from, so a reload can read it again.
struct config_source {
  std::string file;       // empty: the built-in demo
  std::string demo_text;  // the demo's YAML, addresses filled in
  gantry::config::load_options options;

  bool reloadable() const { return !file.empty(); }
  gantry::config::document load() const {
    if (file.empty()) return gantry::config::load_string(demo_text, "<built-in demo>", options);
    return gantry::config::load_file(file, options);
  }
  // The first load, which settles the options every later one uses: metrics are sharded per
  // worker (`workers`, else as many as the file says), and the registry outlives reloads, so
  // counters carry on. --check loads through this too, so it accepts what --config accepts.
  gantry::config::document load_first(std::optional<unsigned> workers) {
    options.metrics = std::make_shared<gantry::policy::metrics_registry>(1);
    unsigned shards = workers.value_or(load().options.workers);
    if (shards == 0) shards = std::max(1u, std::thread::hardware_concurrency());
    options.metrics = std::make_shared<gantry::policy::metrics_registry>(shards);
    return load();
  }
};

// The command line's say over a loaded configuration, and what gantryd requires of it.
void apply_command_line(gantry::config::document& doc, const command_line& cmd) {
  if (cmd.workers) doc.options.workers = *cmd.workers;
  auto top_level = [](const gantry::config::listen_address& l) { return l.options.name.empty(); };
  if (cmd.listen) {
    std::erase_if(doc.listen, top_level);
    doc.listen.insert(doc.listen.begin(), {.address = *cmd.listen, .options = {}});
  }
  if (!cmd.tls.certificates.empty()) {
    // The command line's TLS, on the top-level addresses (a name no file entry takes).
    doc.gateway.tls.push_back({.name = "command line", .settings = cmd.tls});
    for (auto& l : doc.listen)
      if (top_level(l)) l.options.tls = "command line";
  }
  if (cmd.admin) doc.admin_listen = *cmd.admin;
  if (doc.listen.empty()) throw std::invalid_argument("nothing to listen on");
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// What a loaded configuration is worth fixing for, on stderr: "file:line:col: field: warning:
// ...".
void print_warnings(const gantry::config::document& doc) {
  for (const auto& w : doc.warnings) {
    auto located = w;
    located.message = "warning: " + located.message;
    fmt::print(stderr, "{}\n", located.to_string());
  }
}

// The admin listener's routes: Prometheus metrics and a health check. It runs on the
// gateway's workers, beside the listeners of the configuration.
gantry::listener_config admin_listener(std::shared_ptr<const gantry::policy::metrics_registry> r) {
  namespace route = gantry::route;
  gantry::listener_config admin;
  admin.name = "admin";
  route::route metrics;
  metrics.name = "metrics";
  metrics.match.path = route::path_exact{"/metrics"};
  // The endpoint answers before the action is reached.
  metrics.chain.add(gantry::policy::metrics_endpoint_config{.registry = std::move(r)});
  metrics.action = route::direct_response{.status = gantry::http::status::not_found};
  admin.routes.push_back(std::move(metrics));
  route::route health;
  health.name = "healthz";
  health.match.path = route::path_exact{"/healthz"};
  health.action = route::direct_response{.status = gantry::http::status::ok, .body = "ok\n"};
  admin.routes.push_back(std::move(health));
  return admin;
}

// Adds the admin listener to a configuration about to be served.
void add_admin_listener(gantry::gateway_config& config,
                        std::shared_ptr<const gantry::policy::metrics_registry> registry) {
  for (const gantry::listener_config& l : config.listeners)
    if (l.name == "admin")
      throw std::invalid_argument(
          "a listener is named \"admin\", the admin listener's name: rename it, or drop --admin");
  config.listeners.push_back(admin_listener(std::move(registry)));
}

// Changes of a file seen by polling: portable, and once a second is plenty for a config.
struct file_stamp {
  std::filesystem::file_time_type time{};
  std::uintmax_t size = 0;
  friend bool operator==(const file_stamp&, const file_stamp&) = default;
  static file_stamp of(const std::string& path) {
    std::error_code ec;
    file_stamp s;
    s.time = std::filesystem::last_write_time(path, ec);
    s.size = std::filesystem::file_size(path, ec);
    return s;
  }
};

// Reads and compiles the file as --config would (with the same command-line options), short
// of listening and serving.
int check(const command_line& cmd) {
  try {
    config_source source;
    source.file = cmd.check_file;
    auto doc = source.load_first(cmd.workers);
    print_warnings(doc);
    apply_command_line(doc, cmd);
    const std::string summary = fmt::format(
        "{}: valid ({} clusters, {} routes, {} policies, {} named listeners)\n", source.file,
        doc.gateway.clusters.size(), doc.gateway.routes.size(), doc.gateway.policies.size(),
        doc.gateway.listeners.size());
    if (doc.admin_listen) add_admin_listener(doc.gateway, source.options.metrics);
    // Compiled as serving would (routes, clusters and policies as one snapshot), not served.
    gantry::gateway gw{doc.options};
    gw.reload(std::move(doc.gateway));
    fmt::print("{}", summary);
    return 0;
  } catch (const gantry::config::error& e) {
    fmt::print(stderr, "{}\n", e.what());  // every problem, each with its file and line
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", cmd.check_file, e.what());
    return 1;
  }
}

// A daemon's connections are its descriptors: take the whole hard limit, as HAProxy and Go
// programs do, rather than the 1024 a login shell usually sets as the soft one. The gateway
// derives its total connection cap from what this leaves.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
    fmt::print(stderr, "gantryd: cannot raise the descriptor limit: {}\n", std::strerror(errno));
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
  if (!cmd.check_file.empty()) return check(cmd);

  try {
    // The demo APIs run on a thread of their own, as separate services would.
    asio::io_context demo_io{1};
    std::thread demo_thread;
    config_source source;
    gantry::config::document doc;
    // The file's stamp as it was before it was read: a change made while gantryd starts is
    // seen by the first poll (taken later, it could be missed).
    file_stamp stamp;
    const bool legacy = !cmd.upstreams.empty();
    const bool demo = !legacy && cmd.config_file.empty();
    if (legacy) {
      doc.options = cmd.options;
      doc.gateway.clusters = {
          {.name = "default", .endpoints = cmd.upstreams, .tls = cmd.upstream_tls}};
      doc.listen = {{.address = "127.0.0.1:8080", .options = {}}};
    } else {
      if (demo) {
        auto any = gantry::net::resolve_one("127.0.0.1:0");
        auto v1 = gantry::demo::serve_demo_api(demo_io, any, "v1");
        auto v2 = gantry::demo::serve_demo_api(demo_io, any, "v2");
        source.demo_text = replace_all(replace_all(std::string{gantry::demo::demo_config}, "${V1}",
                                                   fmt::format("127.0.0.1:{}", v1.port())),
                                       "${V2}", fmt::format("127.0.0.1:{}", v2.port()));
        demo_thread = std::thread{[&] { demo_io.run(); }};
      } else {
        source.file = cmd.config_file;
        stamp = file_stamp::of(source.file);
      }
      doc = source.load_first(cmd.workers);
      print_warnings(doc);
    }
    apply_command_line(doc, cmd);

    // Signals are caught before anyone can learn the address and send one.
    asio::io_context control_io;
    asio::signal_set signals{control_io, SIGINT, SIGTERM};
    asio::signal_set hangups{control_io, SIGHUP};

    raise_descriptor_limit();
    // The admin listener's metrics are the configuration's registry, so they survive reloads.
    std::shared_ptr<gantry::policy::metrics_registry> admin_registry;
    if (doc.admin_listen) {
      admin_registry = source.options.metrics != nullptr
                           ? source.options.metrics
                           : std::make_shared<gantry::policy::metrics_registry>(1);
      add_admin_listener(doc.gateway, admin_registry);
    }
    // Connections and TLS handshakes are counted where the exchanges are.
    doc.options.metrics = admin_registry != nullptr ? admin_registry : source.options.metrics;
    gantry::gateway gw{doc.options};
    gw.configure(std::move(doc.gateway));
    auto print_bound = [](std::string_view what, const asio::ip::tcp::endpoint& at) {
      fmt::print("gantryd {} on {}:{}\n", what, at.address().to_string(), at.port());
    };
    std::vector<asio::ip::tcp::endpoint> bound;
    std::vector<std::pair<std::string, asio::ip::tcp::endpoint>> named;
    for (const auto& l : doc.listen) {
      const auto at = gw.listen(l.address, l.options);
      if (l.options.name.empty())
        bound.push_back(at);
      else
        named.emplace_back(l.options.name, at);
    }
    std::optional<asio::ip::tcp::endpoint> admin_bound;
    if (doc.admin_listen) admin_bound = gw.listen(*doc.admin_listen, {.name = "admin"});
    gw.start();
    for (const auto& b : bound) print_bound("listening", b);
    for (const auto& [name, at] : named) print_bound(fmt::format("listener {}", name), at);
    if (admin_bound) print_bound("admin", *admin_bound);
    if (!cmd.quiet) {
      fmt::print("  workers: {}, connections: at most {}, config: {}\n", gw.options().workers,
                 gw.options().client.max_total_connections,
                 legacy ? fmt::format("upstreams {}", fmt::join(cmd.upstreams, ", "))
                 : demo ? std::string{"built-in demo (two demo API versions in-process)"}
                        : source.file);
      if (demo && !bound.empty())
        fmt::print("  try: curl -i {}://localhost:{}/users/7\n",
                   cmd.tls.certificates.empty() ? "http" : "https", bound.front().port());
    }
    std::fflush(stdout);

    // A reload that fails leaves the running configuration as it is, and says why.
    auto reload = [&](std::string_view why) {
      try {
        gantry::config::document next = source.load();
        print_warnings(next);
        if (admin_registry) add_admin_listener(next.gateway, admin_registry);
        gw.reload(std::move(next.gateway));
        fmt::print("gantryd: reloaded {} ({}), generation {}\n", source.file, why, gw.generation());
      } catch (const std::exception& e) {
        fmt::print(stderr, "gantryd: reload of {} ({}) failed, still serving generation {}:\n{}\n",
                   source.file, why, gw.generation(), e.what());
      }
      std::fflush(stdout);
    };
    std::function<void()> watch_hangups = [&] {
      hangups.async_wait([&](std::error_code ec, int) {
        if (ec) return;
        if (source.reloadable()) reload("SIGHUP");
        watch_hangups();
      });
    };
    watch_hangups();
    asio::steady_timer poll{control_io};
    std::function<void()> watch_file = [&] {
      poll.expires_after(std::chrono::seconds{1});
      poll.async_wait([&](std::error_code ec) {
        if (ec) return;
        if (auto now = file_stamp::of(source.file); now != stamp) {
          stamp = now;
          reload("file changed");
        }
        watch_file();
      });
    };
    if (source.reloadable()) watch_file();

    signals.async_wait([&](std::error_code ec, int) {
      if (ec) return;
      if (!cmd.quiet) fmt::print("gantryd: stopping, draining in-flight requests\n");
      gw.stop();
      hangups.cancel();
      poll.cancel();
    });
    std::thread control_thread{[&] { control_io.run(); }};
    gw.wait();
    control_io.stop();
    control_thread.join();
    demo_io.stop();
    if (demo_thread.joinable()) demo_thread.join();
    if (!cmd.quiet) fmt::print("gantryd: stopped\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "gantryd: {}\n", e.what());
    return 1;
  }
  return 0;
}
