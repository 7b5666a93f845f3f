// gantryd driven by YAML: --check, --config with reload on SIGHUP and on file change, reload
// under load with no failed request, and the built-in demo with its admin listener, access
// log and metrics.
#include <doctest/doctest.h>
#include <signal.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "common/prometheus_text.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace {

using namespace gantry::testing;
using namespace std::chrono_literals;

// gantryd started with `args`, its port read from the readiness line; stopped with SIGTERM,
// and required to exit 0.
class gantryd_process {
 public:
  explicit gantryd_process(std::vector<std::string> args, bool admin = false) {
    argv_ = {gantryd_binary(), "--workers", "2"};
    argv_.insert(argv_.end(), args.begin(), args.end());
    process_ = std::make_unique<child_process>(spawn_options{.argv = argv_});
    port_ = read_port("gantryd listening on 127.0.0.1:");
    if (admin) admin_port_ = read_port("gantryd admin on 127.0.0.1:");
  }
  ~gantryd_process() {
    process_->send_signal(SIGTERM);
    auto status = process_->wait(after(10s));
    CHECK_MESSAGE((status && status->ok()), "gantryd did not exit cleanly: ",
                  process_->stderr_text());
  }
  std::uint16_t port() const { return port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  child_process& process() { return *process_; }

 private:
  std::uint16_t read_port(std::string_view prefix) {
    auto line = process_->wait_for_line(prefix, after(10s));
    if (!line) {
      process_->kill();
      throw std::runtime_error("gantryd not ready: " + process_->stderr_text());
    }
    return static_cast<std::uint16_t>(std::stoul(line->substr(prefix.size())));
  }
  std::vector<std::string> argv_;
  std::unique_ptr<child_process> process_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
};

// Runs gantryd with `args` to its end; returns its exit status and output.
struct run_result {
  int code = -1;
  std::string out, err;
};
run_result run_gantryd(std::vector<std::string> args) {
  args.insert(args.begin(), gantryd_binary());
  child_process p{spawn_options{.argv = args}};
  auto status = p.wait(after(10s));
  p.wait_for_output_end(after(2s));
  return {status && status->exited ? status->code : -1, p.stdout_text(), p.stderr_text()};
}

std::string config_for(const std::string& cluster_address, std::string_view prefix) {
  std::string yaml = "listen: [\"127.0.0.1:0\"]\n"
                     "clusters:\n"
                     "  - {name: backend, endpoints: [\"" +
                     cluster_address +
                     "\"]}\n"
                     "routes:\n"
                     "  - name: api\n"
                     "    match: {path: {prefix: \"";
  yaml.append(prefix);
  yaml.append("\"}}\n    cluster: backend\n");
  return yaml;
}

}  // namespace

TEST_CASE("gantryd --check: a valid file passes, a broken one names file, line and field") {
  temp_dir dir{"check"};
  auto good = dir.write("good.yaml", config_for("127.0.0.1:9", "/"));
  auto ok = run_gantryd({"--check", good.string()});
  CHECK(ok.code == 0);
  CHECK(ok.out.find("valid") != std::string::npos);

  auto bad = dir.write("bad.yaml",
                       "clusters:\n"
                       "  - {name: backend, endpoints: [\"127.0.0.1:9\"]}\n"
                       "routes:\n"
                       "  - name: api\n"
                       "    cluster: nowhere\n"
                       "    timeoutt: 5s\n");
  auto broken = run_gantryd({"--check", bad.string()});
  CHECK(broken.code == 1);
  INFO(broken.err);
  CHECK(broken.err.find(bad.string() + ":5:") != std::string::npos);  // the dangling cluster
  CHECK(broken.err.find(bad.string() + ":6:") != std::string::npos);  // the unknown field
  CHECK(broken.err.find("routes[0]") != std::string::npos);
}

TEST_CASE("gantryd --check: every example configuration passes, as --config serves them") {
  // Listed now, so that a new example is covered without a change here; from a copy beside
  // throwaway certificates for the examples that serve TLS.
  temp_dir copy{"examples"};
  copy_examples_with_tls_files(GANTRY_TEST_EXAMPLES_CONFIG, copy.path());
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator{copy.path()})
    if (entry.is_regular_file() && entry.path().extension() == ".yaml")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 3);  // minimal, canary, observability at least
  for (const auto& file : files) {
    CAPTURE(file.string());
    auto result = run_gantryd({"--check", file.string()});
    INFO(result.err);
    CHECK(result.code == 0);
    CHECK(result.out.find(file.string() + ": valid") != std::string::npos);
  }
}

TEST_CASE("gantryd --config: reloads on SIGHUP and on file change; a bad file changes nothing") {
  stub_upstream up{stub::echo()};
  temp_dir dir{"reload"};
  auto file = dir.write("gantry.yaml", config_for(up.address(), "/v1"));
  gantryd_process d{{"--config", file.string()}};

  CHECK(get(d.port(), "/v1/x").status() == 200);
  CHECK(get(d.port(), "/v2/x").status() == 404);

  // A new route, picked up by polling the file.
  dir.write("gantry.yaml", config_for(up.address(), "/v2"));
  CHECK(eventually([&] { return get(d.port(), "/v2/x").status() == 200; }, after(10s)));
  CHECK(get(d.port(), "/v1/x").status() == 404);
  CHECK(d.process().wait_for_line("gantryd: reloaded", after(5s)));

  // A broken file: the running configuration stays, and stderr says why.
  dir.write("gantry.yaml", "routes: [{name: api, cluster: ghost}]\n");
  CHECK(eventually([&] { return d.process().stderr_text().find("failed") != std::string::npos; },
                   after(10s)));
  CHECK(d.process().stderr_text().find("ghost") != std::string::npos);
  CHECK(get(d.port(), "/v2/x").status() == 200);

  // SIGHUP reloads at once (the poll would too, a second later).
  dir.write("gantry.yaml", config_for(up.address(), "/v3"));
  d.process().send_signal(SIGHUP);
  CHECK(eventually([&] { return get(d.port(), "/v3/x").status() == 200; }, after(10s)));
}

TEST_CASE("gantryd: reloads under load fail no request") {
  nginx_server upstream;
  temp_dir dir{"reload-load"};
  auto file = dir.write("gantry.yaml", config_for(upstream.address(), "/"));
  gantryd_process d{{"--config", file.string()}};

  child_process wrk{spawn_options{
      .argv = {"/usr/bin/wrk", "-t1", "-c16", "-d4s",
               "http://127.0.0.1:" + std::to_string(d.port()) + "/health"}}};
  // Twenty reloads while wrk runs, alternating between two equivalent route sets.
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(150ms);
    dir.write("gantry.yaml", config_for(upstream.address(), i % 2 == 0 ? "/health" : "/"));
    d.process().send_signal(SIGHUP);
  }
  auto status = wrk.wait(after(20s));
  wrk.wait_for_output_end(after(2s));
  std::string report = wrk.stdout_text();
  INFO(report);
  REQUIRE(status);
  CHECK(status->ok());
  // "  12345 requests in 4.00s, ..."; no <regex>: GCC 12 warns inside it under ASan.
  const auto in = report.find(" requests in");
  REQUIRE(in != std::string::npos);
  const auto start = report.find_last_not_of("0123456789", in - 1) + 1;
  CHECK(std::stoul(report.substr(start, in - start)) > 1000);
  CHECK(report.find("Non-2xx") == std::string::npos);
  CHECK(report.find("Socket errors") == std::string::npos);
  auto out = d.process().stdout_text();
  std::size_t reloads = 0;
  for (auto at = out.find("gantryd: reloaded"); at != std::string::npos;
       at = out.find("gantryd: reloaded", at + 1))
    ++reloads;
  CHECK(reloads >= 10);  // SIGHUPs that arrive together may fold into one
}

TEST_CASE("gantryd demo: routing, canary, mock, redirect, request ids, admin health") {
  gantryd_process d{{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}, true};

  auto r = get(d.port(), "/users/7");
  CHECK(r.status() == 200);
  CHECK(r.header("X-Request-Id").size() == 32);
  CHECK(r.header("X-Served-By") == "gantry (test)");
  const std::string version = r.header("X-Demo-Version");
  CHECK((version == "v1" || version == "v2"));

  // One session cookie, one version, every time.
  for (int i = 0; i < 5; ++i) {
    auto again = fetch(d.port(), make_request("GET", "/users/7", {"Cookie: session=abc"}));
    auto first = fetch(d.port(), make_request("GET", "/users/8", {"Cookie: session=abc"}));
    CHECK(again.header("X-Demo-Version") == first.header("X-Demo-Version"));
  }

  auto mock = get(d.port(), "/mock/order");
  CHECK(mock.status() == 200);
  CHECK(nlohmann::json::parse(mock.body)["order"] == 42);
  CHECK(get(d.port(), "/old-hello").status() == 301);

  CHECK(get(d.admin_port(), "/healthz").body == "ok\n");
  auto metrics = get(d.admin_port(), "/metrics");
  CHECK(metrics.status() == 200);
  CHECK(metrics.header("Content-Type") == "text/plain; version=0.0.4");
}

// What the demo's access log and /metrics must say about one exchange the test made.
struct logged_exchange {
  std::string route, cluster;  // cluster empty for local answers
  int status = 0;
};

// The access-log lines (JSON objects) gantryd has written to stdout so far.
std::vector<nlohmann::json> access_log_lines(child_process& p) {
  std::vector<nlohmann::json> lines;
  const std::string out = p.stdout_text();
  for (std::size_t at = 0, end; at < out.size(); at = end + 1) {
    end = out.find('\n', at);
    if (end == std::string::npos) break;  // a line still being written
    if (out[at] == '{') lines.push_back(nlohmann::json::parse(out.substr(at, end - at)));
  }
  return lines;
}

TEST_CASE("gantryd demo: every exchange is one access-log line and is counted in /metrics") {
  gantryd_process d{{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}, true};

  std::map<std::string, logged_exchange> sent;  // by request id
  auto send = [&](std::string_view target, std::vector<std::string> headers,
                  logged_exchange expected) {
    auto r = fetch(d.port(), make_request("GET", target, std::move(headers)));
    if (expected.route == "users") expected.cluster = "demo-" + r.header("X-Demo-Version");
    CHECK(r.status() == expected.status);
    const std::string id = r.header("X-Request-Id");
    REQUIRE(id.size() == 32);
    sent.emplace(id, std::move(expected));
  };
  for (int i = 0; i < 12; ++i)
    send(fmt::format("/users/{}", i), {fmt::format("Cookie: session=s{}", i)},
         {.route = "users", .status = 200});
  for (int i = 0; i < 3; ++i) send("/mock/order", {}, {.route = "mock", .status = 200});
  for (int i = 0; i < 2; ++i) send("/old-hello", {}, {.route = "old-hello", .status = 301});
  for (int i = 0; i < 4; ++i) send("/hello", {}, {.route = "api", .cluster = "demo-v1", .status = 200});
  for (int i = 0; i < 2; ++i) send("/no-such-thing", {}, {.route = "api", .cluster = "demo-v1", .status = 404});
  REQUIRE(sent.size() == 23);

  // The log is written off the response path: wait for it.
  std::vector<nlohmann::json> lines;
  eventually([&] {
    lines = access_log_lines(d.process());
    return lines.size() >= sent.size();
  }, after(10s), 20ms);
  REQUIRE(lines.size() == sent.size());
  std::map<std::string, int> seen;
  for (const nlohmann::json& line : lines) {
    CAPTURE(line.dump());
    const std::string id = line.at("request_id");
    REQUIRE(sent.contains(id));
    const logged_exchange& want = sent.at(id);
    ++seen[id];
    CHECK(line.at("method") == "GET");
    CHECK(line.at("route") == want.route);
    if (want.cluster.empty()) {
      CHECK(line.at("cluster").is_null());
      CHECK(line.at("upstream_ms").is_null());
    } else {
      CHECK(line.at("cluster") == want.cluster);
      CHECK(line.at("upstream_ms").get<double>() >= 0);
    }
    CHECK(line.at("status") == want.status);
    CHECK(line.at("bytes_out").get<std::uint64_t>() > 0);
    CHECK(line.at("duration_ms").get<double>() >= 0);
    CHECK(line.at("time").get<std::string>().ends_with("Z"));
  }
  CHECK(seen.size() == sent.size());  // each exchange once

  // Counts per route, cluster and status class, as /metrics must show them.
  std::map<prometheus_text::labels, double> want_requests, want_durations;
  for (const auto& [id, e] : sent) {
    const std::string status_class = fmt::format("{}xx", e.status / 100);
    ++want_requests[{{"route", e.route}, {"cluster", e.cluster}, {"status_class", status_class}}];
    ++want_durations[{{"route", e.route}, {"cluster", e.cluster}}];
  }
  // Metrics are counted in the log phase, after the response: scrape until all are in.
  auto total_requests = [](const prometheus_text::exposition& e) {
    double total = 0;
    for (const auto& s : e.named("gantry_requests_total")) total += s.value;
    return total;
  };
  prometheus_text::exposition metrics;
  eventually([&] {
    auto scrape = get(d.admin_port(), "/metrics");
    REQUIRE(scrape.status() == 200);
    metrics = prometheus_text::parse_checked(scrape.body);
    return total_requests(metrics) >= static_cast<double>(sent.size());
  }, after(10s), 20ms);
  for (const auto& [labels, count] : want_requests)
    CHECK(prometheus_text::value_of(metrics, "gantry_requests_total", labels) == count);
  CHECK(total_requests(metrics) == static_cast<double>(sent.size()));  // nothing twice
  for (const auto& [labels, count] : want_durations)
    CHECK(prometheus_text::value_of(metrics, "gantry_request_duration_seconds_count", labels) ==
          count);
}

TEST_CASE("gantryd serves every address of the listen list") {
  stub_upstream up{stub::echo()};
  temp_dir dir{"listeners"};
  std::string yaml = config_for(up.address(), "/");
  const std::string one = "listen: [\"127.0.0.1:0\"]\n";
  REQUIRE(yaml.starts_with(one));
  yaml.replace(0, one.size(), "listen: [\"127.0.0.1:0\", \"127.0.0.1:0\"]\n");
  auto file = dir.write("gantry.yaml", yaml);
  gantryd_process d{{"--config", file.string()}};

  // Both readiness lines are printed before anything else; the first gave d.port().
  REQUIRE(d.process().wait_for_line("  workers:", after(10s)));
  std::vector<std::uint16_t> ports;
  const std::string out = d.process().stdout_text();
  const std::string_view prefix = "gantryd listening on 127.0.0.1:";
  for (auto at = out.find(prefix); at != std::string::npos; at = out.find(prefix, at + 1))
    ports.push_back(static_cast<std::uint16_t>(std::stoul(out.substr(at + prefix.size()))));
  REQUIRE(ports.size() == 2);
  CHECK(ports[0] == d.port());
  CHECK(ports[0] != ports[1]);
  for (auto port : ports) CHECK(get(port, "/x").status() == 200);
}

namespace {

// The port of the first "gantryd listener NAME on 127.0.0.1:PORT" line for `name`.
std::uint16_t named_listener_port(child_process& p, std::string_view name) {
  const std::string prefix = fmt::format("gantryd listener {} on 127.0.0.1:", name);
  auto line = p.wait_for_line(prefix, after(10s));
  REQUIRE(line);
  return static_cast<std::uint16_t>(std::stoul(line->substr(prefix.size())));
}

std::string listeners_config(const std::string& upstream, std::string_view internal_body) {
  return fmt::format(R"(listen: ["127.0.0.1:0"]
admin: {{listen: "127.0.0.1:0"}}
clusters: [{{name: backend, endpoints: ["{}"]}}]
policies:
  - {{name: tag, type: headers, config: {{response: {{set: {{X-Listener: internal}}}}}}}}
routes: [{{name: api, match: {{path: {{prefix: /}}}}, cluster: backend}}]
listeners:
  - name: internal
    listen: ["127.0.0.1:0"]
    client: {{request_limits: {{max_body_size: 4}}}}
    listener_policies: [tag]
    routes:
      - {{name: only, match: {{path: {{exact: /internal}}}}, direct: {{body: "{}"}}}}
)",
                     upstream, internal_body);
}

// The threads of process `pid`.
std::size_t thread_count(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& task :
       std::filesystem::directory_iterator{fmt::format("/proc/{}/task", pid)})
    ++n;
  return n;
}

}  // namespace

TEST_CASE("gantryd serves named listeners and the admin listener on the gateway's workers") {
  stub_upstream up{stub::echo()};
  temp_dir dir{"named-listeners"};
  auto file = dir.write("gantry.yaml", listeners_config(up.address(), "one"));
  gantryd_process d{{"--config", file.string()}, true};
  const std::uint16_t internal = named_listener_port(d.process(), "internal");

  // The top-level routes and policies on the listen address, the listener's own on its.
  auto proxied = get(d.port(), "/internal");
  CHECK(proxied.status() == 200);
  CHECK(proxied.header("X-Listener").empty());
  auto own = get(internal, "/internal");
  CHECK(own.status() == 200);
  CHECK(own.body == "one");
  CHECK(own.header("X-Listener") == "internal");
  auto missing = get(internal, "/elsewhere");
  CHECK(missing.status() == 404);
  CHECK(missing.header("X-Listener") == "internal");
  // Its client section: a smaller body limit there only.
  const std::string post = make_request("POST", "/internal", {}, "0123456789");
  CHECK(fetch(internal, post).status() == 413);
  CHECK(fetch(d.port(), post).status() == 200);
  CHECK(get(d.admin_port(), "/healthz").body == "ok\n");
  CHECK(get(d.admin_port(), "/internal").status() == 404);
  {
    // The admin listener has no thread of its own: gantryd without it runs as many.
    std::string no_admin = listeners_config(up.address(), "one");
    no_admin.erase(no_admin.find("admin:"), no_admin.find("clusters:") - no_admin.find("admin:"));
    gantryd_process plain{{"--config", dir.write("plain.yaml", no_admin).string()}};
    REQUIRE(plain.process().wait_for_line("  workers:", after(10s)));
    CHECK(eventually(
        [&] { return thread_count(plain.process().pid()) == thread_count(d.process().pid()); },
        after(5s)));
  }

  // A reload changes the listener's routes; one that drops the listener is refused.
  dir.write("gantry.yaml", listeners_config(up.address(), "two"));
  d.process().send_signal(SIGHUP);
  CHECK(eventually([&] { return get(internal, "/internal").body == "two"; }, after(10s)));
  std::string without = listeners_config(up.address(), "two");
  without.erase(without.find("listeners:"));
  dir.write("gantry.yaml", without);
  d.process().send_signal(SIGHUP);
  CHECK(eventually(
      [&] {
        return d.process().stderr_text().find(
                   "listener 'internal' is being served, so it cannot be removed") !=
               std::string::npos;
      },
      after(10s)));
  CHECK(get(internal, "/internal").body == "two");
  CHECK(get(d.admin_port(), "/healthz").body == "ok\n");  // kept through every reload
}
