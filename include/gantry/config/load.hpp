#pragma once
/// @file
/// Loading a YAML configuration file into a validated `config::document`.
///
/// ## The format
///
/// Field names are the C++ field names (`host_rewrite`, `body_file`); policy type names are
/// written with dashes (`request-id`). Durations are written "250ms", "10s", "1m30s"; byte
/// sizes 4096, "64KiB", "10MB". Every field is optional unless marked required.
///
/// ```yaml
/// listen: ["0.0.0.0:8080"]          # addresses to serve on
/// admin: {listen: "127.0.0.1:9901"} # admin listener
/// workers: 4                        # 0: one per hardware thread
/// drain_timeout: 30s
/// timer_resolution: 100ms
/// buffer_size: 16KiB
/// client:
///   request_head_timeout: 10s
///   body_timeout: 60s
///   keepalive_timeout: 60s
///   max_connections: 10000
///   max_total_connections: 0       # 0: from the descriptor limit
///   max_requests_per_connection: 10000
///   request_limits: {max_target_length: 8KiB, max_header_section: 64KiB,
///                    max_field_count: 100, max_body_size: 10MiB}
/// upstream:
///   connect_timeout: 5s
///   response_timeout: 60s
///   response_limits: {max_header_section: 64KiB}
///   pool: {max_idle_per_endpoint: 64, idle_timeout: 30s, max_exchanges_per_connection: 1000}
///
/// clusters:
///   - name: users                   # required, unique
///     endpoints: ["10.0.0.7:8080", "10.0.0.8:8080"]   # required, at least one
///
/// policies:
///   - name: ids                     # required, unique
///     type: request-id              # a type of the registry ...
///     config: {header: X-Request-Id}
///   - name: metrics                 # counts into load_options::metrics; times each
///     type: metrics                 # policy's phases on 1 exchange in 64 (0: off)
///     config: {policy_time_sampling: 64}
///   - name: edge                    # ... or a chain of several
///     chain:
///       - {type: request-id}
///       - {type: headers, config: {response: {set: {Server: gantry}}}}
///
/// listener_policies: [ids]          # run on every exchange, before the route's
///
/// routes:
///   - name: users
///     tags: [team-accounts]
///     match:
///       host: api.example.com       # "", "*", "*.example.com" or a host
///       methods: [GET, HEAD]
///       path: {template: "/users/{id}"}   # or exact:, prefix:, regex:
///       headers:
///         - {name: X-Canary, exact: "1"}
///         - {name: Authorization}          # present (or present: true)
///         - {name: User-Agent, regex: ".*Mobile.*"}
///       query:
///         - {name: version, exact: "2"}
///         - {name: debug, present: true}
///     cluster: users                # the action: exactly one of cluster, split,
///                                   # redirect, direct
///     rewrite: {template: "/v2/users/{id}"}   # or {strip_prefix: /api}, {strip_prefix: true}
///     host_rewrite: users.internal
///     timeout: 1500ms
///     forward_proxy_credentials: false  # Proxy-Authorization/-Authenticate pass on if true
///     policies: [ids]
///   - name: canary
///     match: {path: {prefix: /shop}}
///     split:
///       - {cluster: shop-v1, weight: 90}
///       - {cluster: shop-v2, weight: 10}
///     sticky: {cookie: session}     # or {header: X-User-Id}
///   - name: old-docs
///     match: {path: {prefix: /docs}}
///     redirect: {status: 301, location: "https://docs.example.com/"}
///   - name: mock
///     match: {path: {exact: /mock}}
///     direct: {status: 200, headers: {Content-Type: application/json}, body_file: mock.json}
/// ```
///
/// ## Validation
///
/// Everything is checked before anything is returned, and every problem is reported at
/// once, each as "file:line:column: field.path: message" (see `config::error`): YAML
/// syntax, unknown fields (with a suggestion), wrong types, missing required fields, bad
/// values (durations, methods, statuses, addresses), names used twice, references to
/// clusters or policies that are not declared, every problem the route table's builder
/// finds (conflicting or shadowed routes, bad patterns), and every problem a policy's
/// constructor finds. The input may be anything: the loader reports, it does not crash.

#include <filesystem>
#include <memory>
#include <string_view>

#include "gantry/config/document.hpp"
#include "gantry/config/error.hpp"
#include "gantry/config/policy_registry.hpp"
#include "gantry/policy/metrics_registry.hpp"

namespace gantry::config {

/// How to load a configuration.
struct load_options {
  /// The policy types `policies[].type` may name; the built-in ones unless changed.
  policy_registry policies = policy_registry::builtin();
  /// For `load_string`: the directory relative file names (`body_file`) are relative to;
  /// empty for the current directory. `load_file` uses the file's own directory.
  std::filesystem::path base_directory{};
  /// The registry `metrics` policies count into and `metrics-endpoint` policies serve. The
  /// program owns it and passes the same one to every load, so counters survive reloads;
  /// without one, a configuration that uses either policy is refused.
  std::shared_ptr<policy::metrics_registry> metrics{};
};

/// Reads and validates the YAML configuration in the file at `path`. Throws `config::error`
/// listing every problem (a file that cannot be read is one).
///
/// ```
/// try {
///   gantry::config::document doc = gantry::config::load_file("gantry.yaml");
/// } catch (const gantry::config::error& e) {
///   std::cerr << e.what() << '\n';
/// }
/// ```
document load_file(const std::filesystem::path& path, const load_options& options = {});

/// Reads and validates the YAML configuration `text`; `name` stands for the file name in
/// diagnostics. Throws `config::error` listing every problem.
document load_string(std::string_view text, std::string_view name = "<config>",
                     const load_options& options = {});

}  // namespace gantry::config
