#include "gantry/config/load.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <new>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "../net/tls_context.hpp"
#include "fields.hpp"
#include "gantry/core/read_file.hpp"
#include "gantry/net/address.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/route/route_table.hpp"
#include "node_state.hpp"
#include "values.hpp"

namespace gantry::config {
namespace {

using detail::node_access;
using detail::quote;

// A configuration file is text a person wrote: 64 MiB is far past any, and a bound on what a
// mistaken path (a device, a disk image) makes the loader read.
constexpr std::size_t max_config_size = 64 * 1024 * 1024;

// A name something refers to (a cluster, a policy), and the node that does.
struct reference {
  std::string name;
  node where;
};

// A route as read, with the node it came from.
struct route_entry {
  node where;
  route::route value;
  bool valid = false;  // read without problems, so worth validating as part of the table
};

// Names declared once, with the line of their declaration.
class name_set {
 public:
  // Records `name` declared at `where`; reports it when it was declared before.
  void declare(const std::string& name, const node& where, std::string_view what) {
    auto [it, inserted] = lines_.emplace(name, where.line());
    if (!inserted)
      where.fail(fmt::format("another {} is named {} (line {}); names must be unique", what,
                             quote(name), it->second));
  }
  bool contains(std::string_view name) const { return lines_.find(name) != lines_.end(); }
  std::vector<std::string_view> names() const {
    std::vector<std::string_view> all;
    for (const auto& entry : lines_) all.push_back(entry.first);
    return all;
  }

 private:
  std::map<std::string, int, std::less<>> lines_;
};

// The name a route gets in the table built to validate it: unique, and recognisable in the
// builder's messages, so each message can be traced to its route's node.
constexpr char marker = '\x1f';
std::string marker_name(std::size_t index) { return fmt::format("{}{}{}", marker, index, marker); }

class loader {
 public:
  loader(const load_options& options, std::filesystem::path base)
      : options_{options}, base_{std::move(base)} {}

  void run(const node& root, document& doc) {
    if (!root.expect_map({"listen", "admin", "workers", "client", "upstream", "drain_timeout",
                          "timer_resolution", "buffer_size", "clusters", "policies",
                          "listener_policies", "routes", "listeners"}))
      return;
    read_listen(root["listen"], {}, doc);
    read_admin(root["admin"], doc.admin_listen);
    read_options(root, doc.options);
    read_clusters(root["clusters"], doc.gateway.clusters);
    read_policies(root["policies"], doc.gateway.policies);
    read_policy_names(root["listener_policies"], doc.gateway.listener_policies);
    std::vector<route_entry> routes = read_routes(root["routes"]);
    std::vector<std::vector<route_entry>> listener_routes =
        read_listeners(root["listeners"], doc, root["admin"].present());
    check_references();
    validate_table(root["routes"], routes);
    for (route_entry& r : routes) doc.gateway.routes.push_back(std::move(r.value));
    const std::vector<node> listener_nodes = root["listeners"].items();
    for (std::size_t i = 0; i < listener_routes.size(); ++i) {
      validate_table(listener_nodes[i]["routes"], listener_routes[i]);
      for (route_entry& r : listener_routes[i])
        doc.gateway.listeners[i].routes.push_back(std::move(r.value));
    }
    // The gateway would refuse it (without routes, it proxies to its first cluster). Left
    // out after other problems: a misspelt `routes` or `clusters` is one of them.
    if (doc.gateway.routes.empty() && doc.gateway.clusters.empty() &&
        node_access::context(root).problems() == 0)
      root.fail("nothing to serve: declare clusters, or routes");
  }

 private:
  // --- listeners and options ---

  static void read_address(const node& n, detail::address_use use, std::string& out) {
    auto text = n.as_string();
    if (!text) return;
    if (auto problem = detail::address_problem(*text, use))
      n.fail(*problem);
    else
      out = std::move(*text);
  }

  // A `listen` list: addresses, or maps with an address and TLS settings. Each entry becomes
  // one of `doc.listen`, served as `options` say.
  void read_listen(const node& n, const listener_options& options, document& doc) {
    for (const node& item : n.items()) {
      listen_address entry{.address = {}, .options = options};
      if (item.is_map()) {
        if (!item.expect_map({"address", "tls"})) continue;
        read_address(item.required("address"), detail::address_use::listen, entry.address);
        if (item["tls"].present() && !entry.address.empty())
          entry.options.tls = read_tls(item["tls"], entry.address, doc);
      } else {
        read_address(item, detail::address_use::listen, entry.address);
      }
      if (!entry.address.empty()) doc.listen.push_back(std::move(entry));
    }
  }

  // TLS settings of the listen entry for `address`, added to `doc.gateway.tls` under a name
  // of their own (the address, made unique); that name. The files are read now, so that a
  // problem with them is reported at its field.
  std::string read_tls(const node& n, const std::string& address, document& doc) {
    if (!n.expect_map({"certificates", "client_ca", "client_certificates", "alpn", "strict_sni"}))
      return {};
    const std::size_t before = node_access::context(n).problems();
    net::tls_server_settings settings;
    const node certificates = n.required("certificates");
    const std::vector<node> list = certificates.items();
    if (certificates.present() && list.empty() &&
        (certificates.is_list() || certificates.is_null()))
      certificates.fail("at least one is required");
    for (const node& item : list) {
      net::tls_certificate& c = settings.certificates.emplace_back();
      if (!item.expect_map({"cert", "key"})) continue;
      read_path(item.required("cert"), c.cert);
      read_path(item.required("key"), c.key);
    }
    read_path(n["client_ca"], settings.client_ca);
    const node mode = n["client_certificates"];
    if (auto text = mode.as_string()) {
      if (*text == "off")
        settings.client_certificates = net::client_certificate_mode::off;
      else if (*text == "optional")
        settings.client_certificates = net::client_certificate_mode::optional;
      else if (*text == "required")
        settings.client_certificates = net::client_certificate_mode::required;
      else
        mode.fail(fmt::format("unknown value {}: give off, optional or required", quote(*text)));
    }
    n["alpn"].read(settings.alpn);
    n["strict_sni"].read(settings.strict_sni);
    if (node_access::context(n).problems() == before)
      check_tls(n, [&] { return net::tls_context::server(settings); });

    std::string name = address;
    for (int i = 2; std::any_of(doc.gateway.tls.begin(), doc.gateway.tls.end(),
                                [&](const named_tls& t) { return t.name == name; });
         ++i)
      name = fmt::format("{} ({})", address, i);
    doc.gateway.tls.push_back({.name = name, .settings = std::move(settings)});
    return name;
  }

  // A file name, relative to the configuration file's directory unless absolute.
  void read_path(const node& n, std::string& out) const {
    auto text = n.as_string();
    if (!text) return;
    if (text->empty()) return n.fail("must not be empty");
    std::filesystem::path path{*text};
    if (path.is_relative() && !base_.empty()) path = (base_ / path).lexically_normal();
    out = path.string();
  }

  // A cluster's TLS: how the gateway connects to its servers.
  net::tls_client_settings read_upstream_tls(const node& n) {
    net::tls_client_settings settings;
    if (!n.expect_map({"ca", "server_name", "verify", "certificate", "alpn"})) return settings;
    const std::size_t before = node_access::context(n).problems();
    read_path(n["ca"], settings.ca);
    n["server_name"].read(settings.server_name);
    n["verify"].read(settings.verify);
    const node own = n["certificate"];
    if (own.present() && own.expect_map({"cert", "key"})) {
      read_path(own.required("cert"), settings.certificate.cert);
      read_path(own.required("key"), settings.certificate.key);
    }
    n["alpn"].read(settings.alpn);
    if (node_access::context(n).problems() == before)
      check_tls(n, [&] { return net::tls_context::client(settings); });
    return settings;
  }

  // Reads the certificates, keys and CAs as the gateway will (`make` makes the context),
  // reporting each problem, and each warning, at the field it names ("certificates[1].key:
  // ...").
  template <class Make>
  static void check_tls(const node& n, Make make) {
    // Each line is "field: message".
    auto each_line = [&](std::string_view text, auto report) {
      while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        const auto colon = line.find(": ");
        if (colon != std::string_view::npos)
          report(line.substr(0, colon), line.substr(colon + 2));
        else
          report(std::string_view{}, line);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
      }
    };
    try {
      const auto context = make();
      for (const std::string& warning : context->warnings())
        each_line(warning, [&](std::string_view field, std::string_view message) {
          n.warn_at(field, message);
        });
    } catch (const std::invalid_argument& e) {
      each_line(e.what(), [&](std::string_view field, std::string_view message) {
        if (field.empty())
          n.fail(message);
        else
          n.fail_at(field, message);
      });
    }
  }



  static void read_admin(const node& n, std::optional<std::string>& out) {
    if (!n.expect_map({"listen"})) return;
    std::string address;
    read_address(n.required("listen"), detail::address_use::listen, address);
    if (!address.empty()) out = std::move(address);
  }

  static void read_positive(const node& n, std::chrono::milliseconds& out) {
    auto d = n.as_duration();
    if (!d) return;
    if (d->count() == 0)
      n.fail("must be more than 0");
    else
      out = *d;
  }

  template <class T>
  static void read_at_least_one(const node& n, T& out) {
    if (auto v = n.as_unsigned(std::numeric_limits<T>::max())) {
      if (*v == 0)
        n.fail("must be at least 1");
      else
        out = static_cast<T>(*v);
    }
  }

  static void read_size(const node& n, std::size_t& out, std::uint64_t min) {
    auto size = n.as_byte_size();
    if (!size) return;
    if (*size < min)
      n.fail(fmt::format("must be at least {} bytes", min));
    else
      out = static_cast<std::size_t>(*size);
  }

  static void read_limits(const node& n, http::parser_limits& out) {
    if (!n.expect_map(
            {"max_target_length", "max_header_section", "max_field_count", "max_body_size"}))
      return;
    read_size(n["max_target_length"], out.max_target_length, 1);
    read_size(n["max_header_section"], out.max_header_section, 1);
    read_at_least_one(n["max_field_count"], out.max_field_count);
    if (auto size = n["max_body_size"].as_byte_size()) out.max_body_size = *size;
  }

  static void read_paths(const node& n, http::path_normalization& out) {
    if (!n.expect_map({"merge_slashes", "encoded_slashes"})) return;
    n["merge_slashes"].read(out.merge_slashes);
    const node slashes = n["encoded_slashes"];
    if (auto text = slashes.as_string()) {
      if (*text == "reject")
        out.slashes = http::encoded_slashes::reject;
      else if (*text == "keep")
        out.slashes = http::encoded_slashes::keep;
      else
        slashes.fail(fmt::format("unknown value {}: give reject or keep", quote(*text)));
    }
  }

  static void read_options(const node& root, gateway_options& out) {
    if (auto workers = root["workers"].as_integer(0, 1024))
      out.workers = static_cast<unsigned>(*workers);
    if (auto drain = root["drain_timeout"].as_duration()) out.drain_timeout = *drain;
    read_positive(root["timer_resolution"], out.timer_resolution);
    read_size(root["buffer_size"], out.buffer_size, 1024);

    read_client(root["client"], out.client, true);

    const node upstream = root["upstream"];
    if (upstream.expect_map({"connect_timeout", "response_timeout", "response_limits", "pool"})) {
      read_positive(upstream["connect_timeout"], out.upstream.connect_timeout);
      read_positive(upstream["response_timeout"], out.upstream.response_timeout);
      read_limits(upstream["response_limits"], out.upstream.response_limits);
      const node pool = upstream["pool"];
      if (pool.expect_map(
              {"max_idle_per_endpoint", "idle_timeout", "max_exchanges_per_connection"})) {
        pool["max_idle_per_endpoint"].read(out.upstream.pool.max_idle_per_endpoint);
        read_positive(pool["idle_timeout"], out.upstream.pool.idle_timeout);
        read_at_least_one(pool["max_exchanges_per_connection"],
                          out.upstream.pool.max_exchanges_per_connection);
      }
    }
  }

  // A `client` section over `out`; a listener's (`caps` false) leaves the connection caps out,
  // which stay the gateway's.
  static void read_client(const node& client, client_options& out, bool caps) {
    if (!client.expect_map({"request_head_timeout", "body_timeout", "keepalive_timeout",
                            "max_connections", "max_total_connections",
                            "max_requests_per_connection", "request_limits", "paths"}))
      return;
    read_positive(client["request_head_timeout"], out.request_head_timeout);
    read_positive(client["body_timeout"], out.body_timeout);
    read_positive(client["keepalive_timeout"], out.keepalive_timeout);
    client["max_requests_per_connection"].read(out.max_requests_per_connection);
    read_limits(client["request_limits"], out.request_limits);
    read_paths(client["paths"], out.paths);
    for (std::string_view cap : {"max_connections", "max_total_connections"})
      if (!caps && client[cap].present())
        client[cap].fail("counts every listener's connections: set it in the top-level client");
    read_at_least_one(client["max_connections"], out.max_connections);
    client["max_total_connections"].read(out.max_total_connections);
  }

  // --- named listeners ---

  // Each listener's routes, as read, in the order of `doc.gateway.listeners`, which gets one
  // entry per item of the list (so the two stay parallel to the list's nodes).
  std::vector<std::vector<route_entry>> read_listeners(const node& n, document& doc,
                                                       bool admin) {
    std::vector<std::vector<route_entry>> routes;
    name_set names;
    for (const node& item : n.items()) {
      listener_config& config = doc.gateway.listeners.emplace_back();
      routes.emplace_back();
      if (!item.expect_map({"name", "listen", "client", "listener_policies", "routes"})) continue;
      const node name = item.required("name");
      if (name.read(config.name)) {
        if (config.name.empty())
          name.fail("must not be empty");
        else if (admin && config.name == "admin")
          name.fail("the name \"admin\" is the admin listener's (admin.listen)");
        else
          names.declare(config.name, name, "listener");
      }
      listener_options options{.name = config.name};
      if (item["client"].present()) {
        client_options client = doc.options.client;
        read_client(item["client"], client, false);
        options.client = client;
      }
      const node listen = item.required("listen");
      read_listen(listen, options, doc);
      if (listen.present() && listen.items().empty() && (listen.is_list() || listen.is_null()))
        listen.fail("a listener needs at least one address");
      read_policy_names(item["listener_policies"], config.listener_policies);
      routes.back() = read_routes(item["routes"]);
    }
    return routes;
  }

  void read_policy_names(const node& n, std::vector<std::string>& out) {
    for (const node& item : n.items()) {
      if (auto name = item.as_string()) {
        policy_refs_.push_back({*name, item});
        out.push_back(std::move(*name));
      }
    }
  }

  // --- clusters ---

  void read_clusters(const node& n, std::vector<cluster_config>& out) {
    for (const node& item : n.items()) {
      if (!item.expect_map({"name", "endpoints", "tls"})) continue;
      cluster_config c;
      const node name = item.required("name");
      if (name.read(c.name)) {
        if (c.name.empty())
          name.fail("must not be empty");
        else
          clusters_.declare(c.name, name, "cluster");
      }
      const node endpoints = item.required("endpoints");
      const std::vector<node> list = endpoints.items();
      if (endpoints.present() && list.empty() && (endpoints.is_list() || endpoints.is_null()))
        endpoints.fail("a cluster needs at least one endpoint");
      for (const node& endpoint : list) {
        std::string address;
        read_address(endpoint, detail::address_use::upstream, address);
        if (!address.empty()) c.endpoints.push_back(std::move(address));
      }
      if (item["tls"].present()) {
        c.tls = read_upstream_tls(item["tls"]);
        // A certificate names hosts, not addresses: verifying one needs the name.
        const auto address =
            std::find_if(c.endpoints.begin(), c.endpoints.end(),
                         [](const std::string& e) { return net::host_is_address(e); });
        if (c.tls->verify && c.tls->server_name.empty() && address != c.endpoints.end())
          item["tls"].fail_at(
              "server_name",
              fmt::format("required, as endpoint {} is an IP address", quote(*address)));
      }
      out.push_back(std::move(c));
    }
  }

  // --- policies ---

  void read_policies(const node& n, std::vector<named_policy>& out) {
    for (const node& item : n.items()) {
      if (!item.expect_map({"name", "type", "config", "chain"})) continue;
      named_policy p;
      const node name = item.required("name");
      if (name.read(p.name)) {
        if (p.name.empty())
          name.fail("must not be empty");
        else
          policies_.declare(p.name, name, "policy");
      }
      auto form = item.one_of({"type", "chain"});
      bool built = form.has_value();
      if (form == "type") {
        auto chain = build_policy(item["type"], item["config"], p.name);
        if (chain)
          p.chain = std::move(*chain);
        else
          built = false;
      } else if (form == "chain") {
        if (item["config"].present())
          item["config"].fail("a chain's policies each have their own config");
        const std::vector<node> links = item["chain"].items();
        if (links.empty() && (item["chain"].is_list() || item["chain"].is_null()))
          item["chain"].fail("a chain needs at least one policy");
        for (const node& link : links) {
          if (!link.expect_map({"type", "config"})) {
            built = false;
            continue;
          }
          auto chain = build_policy(link.required("type"), link["config"], p.name);
          if (chain)
            p.chain.append(*chain);
          else
            built = false;
        }
      }
      if (built) out.push_back(std::move(p));
    }
  }

  // Builds one policy of the type `type` names from `config`; nothing when that fails (and
  // is reported).
  std::optional<policy::chain> build_policy(const node& type, const node& config,
                                            std::string_view name) {
    auto type_name = type.as_string();
    if (!type_name) return std::nullopt;
    const policy_factory* factory = options_.policies.find(*type_name);
    if (!factory) {
      const std::vector<std::string_view> known = options_.policies.types();
      std::string hint = detail::suggestion(*type_name, known);
      if (hint.empty())
        hint = fmt::format("; the types are {}", detail::join_choices(known, "and"));
      type.fail(fmt::format("unknown policy type {}{}", quote(*type_name), hint));
      return std::nullopt;
    }
    const std::size_t before = node_access::context(config).problems();
    const policy_context context{name, base_, options_};
    try {
      policy::chain chain = (*factory)(config, context);
      if (node_access::context(config).problems() == before) return chain;
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::invalid_argument& e) {
      // After a problem the factory reported, the policy was built from defaults in its
      // place: whatever it then refused follows from that problem.
      if (node_access::context(config).problems() == before)
        report_policy_problems(config, e.what());
    } catch (const std::exception& e) {
      config.fail(e.what());
    }
    return std::nullopt;
  }

  static bool is_field_path(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '.' || c == '[' || c == ']' || c == '-';
    });
  }

  // A policy constructor's message, "X policy: field: why; field: why", as one located
  // problem per field.
  static void report_policy_problems(const node& config, std::string_view message) {
    constexpr std::string_view policy_prefix = " policy: ";
    auto prefix = message.find(policy_prefix);
    if (prefix != std::string_view::npos &&
        message.substr(0, prefix).find(' ') == std::string_view::npos)
      message.remove_prefix(prefix + policy_prefix.size());
    while (!message.empty()) {
      auto end = message.find("; ");
      std::string_view part = message.substr(0, end);
      auto colon = part.find(": ");
      if (colon != std::string_view::npos && is_field_path(part.substr(0, colon)))
        config.fail_at(part.substr(0, colon), part.substr(colon + 2));
      else
        config.fail(part);
      message = end == std::string_view::npos ? std::string_view{} : message.substr(end + 2);
    }
  }

  // --- routes ---

  std::vector<route_entry> read_routes(const node& n) {
    std::vector<route_entry> routes;
    name_set names;
    for (const node& item : n.items()) {
      auto& context = node_access::context(item);
      const std::size_t before = context.problems();
      route_entry entry{item, {}, false};
      read_route(item, entry.value, names);
      entry.valid = context.problems() == before;
      routes.push_back(std::move(entry));
    }
    return routes;
  }

  void read_route(const node& n, route::route& r, name_set& names) {
    if (!n.expect_map({"name", "tags", "match", "cluster", "split", "sticky", "redirect", "direct",
                       "rewrite", "host_rewrite", "timeout", "forward_proxy_credentials",
                       "policies"}))
      return;
    if (n["name"].read(r.name) && !r.name.empty()) names.declare(r.name, n["name"], "route");
    n["tags"].read(r.tags);
    read_match(n["match"], r.match);
    read_action(n, r.action);
    read_rewrite(n["rewrite"], r.rewrite);
    n["host_rewrite"].read(r.host_rewrite);
    const node timeout = n["timeout"];
    if (auto t = timeout.as_duration()) {
      if (t->count() == 0)
        timeout.fail("must be more than 0");
      else
        r.timeout = *t;
    }
    n["forward_proxy_credentials"].read(r.forward_proxy_credentials);
    for (const node& item : n["policies"].items()) {
      if (auto name = item.as_string()) {
        policy_refs_.push_back({*name, item});
        r.policies.push_back(std::move(*name));
      }
    }
  }

  static void read_match(const node& n, route::route_match& m) {
    if (!n.expect_map({"host", "methods", "path", "headers", "query"})) return;
    n["host"].read(m.host);
    for (const node& item : n["methods"].items()) {
      auto text = item.as_string();
      if (!text) continue;
      if (auto method = detail::parse_method(*text))
        m.methods.insert(*method);
      else
        item.fail(fmt::format("unknown method {}{}", quote(*text),
                              detail::suggestion(*text, detail::method_names())));
    }
    const node path = n["path"];
    if (path.expect_map({"exact", "prefix", "template", "regex"})) {
      auto kind = path.one_of({"exact", "prefix", "template", "regex"});
      auto text = kind ? path[*kind].as_string() : std::nullopt;
      if (text) {
        if (kind == "exact") m.path = route::path_exact{std::move(*text)};
        if (kind == "prefix") m.path = route::path_prefix{std::move(*text)};
        if (kind == "template") m.path = route::path_template{std::move(*text)};
        if (kind == "regex") m.path = route::path_regex{std::move(*text)};
      }
    }
    for (const node& item : n["headers"].items()) {
      if (!item.expect_map({"name", "exact", "present", "regex"})) continue;
      route::header_matcher h;
      item.required("name").read(h.name);
      auto kind = item.one_of({"exact", "present", "regex"}, false);
      if (kind == "exact") {
        h.match = route::header_matcher::kind::exact;
        item["exact"].read(h.value);
      } else if (kind == "regex") {
        h.match = route::header_matcher::kind::regex;
        item["regex"].read(h.value);
      } else if (kind == "present") {
        read_present(item["present"]);
      }
      m.headers.push_back(std::move(h));
    }
    for (const node& item : n["query"].items()) {
      if (!item.expect_map({"name", "exact", "present"})) continue;
      route::query_matcher q;
      item.required("name").read(q.name);
      auto kind = item.one_of({"exact", "present"}, false);
      if (kind == "exact") {
        q.match = route::query_matcher::kind::exact;
        item["exact"].read(q.value);
      } else if (kind == "present") {
        read_present(item["present"]);
      }
      m.query.push_back(std::move(q));
    }
  }

  static void read_present(const node& n) {
    if (n.as_bool() == false)
      n.fail("only 'present: true' is a condition; to accept any request, leave the condition out");
  }

  void read_cluster_name(const node& n, std::string& out) {
    if (!n.read(out)) return;
    if (out.empty())
      n.fail("must not be empty");
    else
      cluster_refs_.push_back({out, n});
  }

  // A status `valid` accepts; reports others with `rule`.
  static std::optional<http::status> read_status(const node& n, bool (*valid)(std::int64_t),
                                                 std::string_view rule) {
    auto code = n.as_integer(100, 999);
    if (!code) return std::nullopt;
    if (!valid(*code)) {
      n.fail(fmt::format("bad status {}: {}", *code, rule));
      return std::nullopt;
    }
    return static_cast<http::status>(*code);
  }

  static bool is_redirect(std::int64_t code) {
    return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
  }
  static bool is_final(std::int64_t code) { return code >= 200 && code <= 599; }

  void read_action(const node& n, route::route_action& action) {
    auto kind = n.one_of({"cluster", "split", "redirect", "direct"});
    if (n["sticky"].present() && kind != "split" && kind)
      n["sticky"].fail("only a split can be sticky");
    if (kind == "cluster") {
      route::proxy p;
      read_cluster_name(n["cluster"], p.cluster);
      action = std::move(p);
    } else if (kind == "split") {
      action = read_split(n["split"], n["sticky"]);
    } else if (kind == "redirect") {
      const node r = n["redirect"];
      route::redirect out;
      if (r.expect_map({"status", "location", "to_https", "https_port"})) {
        if (auto s =
                read_status(r["status"], is_redirect, "a redirect is 301, 302, 303, 307 or 308"))
          out.status = *s;
        r["to_https"].read(out.to_https);
        if (auto port = r["https_port"].as_integer(1, 65535))
          out.https_port = static_cast<std::uint16_t>(*port);
        if (!out.to_https) r.required("location").read(out.location);
        else r["location"].read(out.location);
      }
      action = std::move(out);
    } else if (kind == "direct") {
      action = read_direct(n["direct"]);
    }
  }

  route::weighted_split read_split(const node& n, const node& sticky) {
    route::weighted_split split;
    std::uint64_t total = 0;
    bool complete = true;
    for (const node& item : n.items()) {
      if (!item.expect_map({"cluster", "weight"})) {
        complete = false;
        continue;
      }
      route::weighted_cluster c;
      read_cluster_name(item.required("cluster"), c.cluster);
      if (!item["weight"].present() || item["weight"].read(c.weight))
        total += c.weight;
      else
        complete = false;
      split.clusters.push_back(std::move(c));
    }
    if (n.is_list() || n.is_null()) {
      if (split.clusters.empty() && complete)
        n.fail("a split needs at least one cluster");
      else if (total == 0 && complete)
        n.fail("the weights add up to 0: give at least one cluster a weight");
    }
    if (sticky.expect_map({"header", "cookie"})) {
      auto from = sticky.one_of({"header", "cookie"});
      route::sticky_key key;
      key.from =
          from == "cookie" ? route::sticky_key::source::cookie : route::sticky_key::source::header;
      if (from && sticky[*from].read(key.name)) {
        if (key.name.empty())
          sticky[*from].fail("must not be empty");
        else
          split.sticky = std::move(key);
      }
    }
    return split;
  }

  route::direct_response read_direct(const node& n) {
    route::direct_response out;
    if (!n.expect_map({"status", "headers", "body", "body_file"})) return out;
    if (auto s = read_status(n["status"], is_final, "a direct response is 200 to 599"))
      out.status = *s;
    for (policy::header_value& f : detail::read_fields(n["headers"], true))
      out.headers.add(f.name, f.value);
    n["body"].read(out.body);
    const node file = n["body_file"];
    std::string name;
    if (file.read(name)) {
      if (n["body"].present()) {
        file.fail("give the body inline or from a file, not both");
      } else {
        std::filesystem::path path{name};
        if (path.is_relative() && !base_.empty()) path = (base_ / path).lexically_normal();
        if (auto why = core::read_file(path, policy::direct_response_config::max_body_file_size,
                                       out.body))
          file.fail(fmt::format("cannot read {}: {}", quote(path.string()), *why));
      }
    }
    if (!out.body.empty() && http::is_bodyless(out.status))
      n.fail(fmt::format("a {} response has no body", static_cast<unsigned>(out.status)));
    return out;
  }

  static void read_rewrite(const node& n, std::optional<route::path_rewrite>& out) {
    if (!n.expect_map({"strip_prefix", "template"})) return;
    auto kind = n.one_of({"strip_prefix", "template"});
    if (!kind) return;
    auto text = n[*kind].as_string();
    if (!text) return;
    if (kind == "template") {
      out = route::template_rewrite{std::move(*text)};
    } else if (*text == "true") {
      out = route::strip_prefix{};
    } else if (text->starts_with('/')) {
      out = route::strip_prefix{std::move(*text)};
    } else {
      n[*kind].fail("expected a path prefix starting with '/', or true for the route's own prefix");
    }
  }

  // --- across the document ---

  void check_references() {
    const std::vector<std::string_view> cluster_names = clusters_.names();
    for (const reference& r : cluster_refs_)
      if (!clusters_.contains(r.name))
        r.where.fail(fmt::format("no cluster named {} is declared{}", quote(r.name),
                                 detail::suggestion(r.name, cluster_names)));
    const std::vector<std::string_view> policy_names = policies_.names();
    for (const reference& r : policy_refs_)
      if (!policies_.contains(r.name))
        r.where.fail(fmt::format("no policy named {} is declared{}", quote(r.name),
                                 detail::suggestion(r.name, policy_names)));
  }

  // How a route is named in a message: its name, or its position counting from 1.
  static std::string describe(const std::vector<route_entry>& routes, std::size_t i) {
    const std::string& name = routes[i].value.name;
    return name.empty() ? fmt::format("#{}", i + 1) : fmt::format("'{}'", name);
  }

  // Builds the route table from the routes read without problems, so that what the builder
  // refuses (conflicts, shadowed routes, bad patterns) is reported at the routes concerned.
  void validate_table(const node& n, const std::vector<route_entry>& routes) {
    route::route_table::builder builder;
    bool any = false;
    for (std::size_t i = 0; i < routes.size(); ++i) {
      if (!routes[i].valid) continue;
      route::route r = routes[i].value;
      r.name = marker_name(i);
      builder.add(std::move(r));
      any = true;
    }
    if (!any) return;
    try {
      std::move(builder).build();
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      std::string_view message = e.what();
      while (!message.empty()) {
        auto end = message.find('\n');
        report_table_problem(n, routes, message.substr(0, end));
        message = end == std::string_view::npos ? std::string_view{} : message.substr(end + 1);
      }
    }
  }

  static void report_table_problem(const node& n, const std::vector<route_entry>& routes,
                                   std::string_view line) {
    if (line.empty() || line.ends_with("problems in the route table:")) return;
    std::string text;
    std::optional<std::size_t> first;
    while (!line.empty()) {
      auto start = line.find(marker);
      auto end = start == std::string_view::npos ? start : line.find(marker, start + 1);
      auto number = end == std::string_view::npos
                        ? std::nullopt
                        : detail::parse_integer(line.substr(start + 1, end - start - 1));
      if (!number || number->magnitude >= routes.size()) {
        text.append(line);
        break;
      }
      const auto i = static_cast<std::size_t>(number->magnitude);
      // The builder quotes names: the quotes around the marker are the description's.
      std::size_t before = start, after = end + 1;
      if (before > 0 && line[before - 1] == '\'' && after < line.size() && line[after] == '\'') {
        --before;
        ++after;
      }
      text.append(line.substr(0, before));
      text.append(describe(routes, i));
      if (!first)
        first = i;
      else if (i != *first)
        text.append(fmt::format(" (line {})", routes[i].where.line()));
      line.remove_prefix(after);
    }
    if (first)
      routes[*first].where.fail(text);
    else
      n.fail(text);
  }

  const load_options& options_;
  std::filesystem::path base_;
  name_set clusters_;
  name_set policies_;
  std::vector<reference> cluster_refs_;
  std::vector<reference> policy_refs_;
};

// Records where each document of a stream starts; builds nothing.
class document_starts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Reports a second document in `text`, or a character the parser is stuck on. yaml-cpp's LoadAll
// never returns on some inputs (a lone ","): the parser keeps finding empty documents at the same
// place without consuming anything. So documents are counted here, three at most, and two that
// start at the same place mean it is stuck.
void check_single_document(const std::string& text, detail::load_context& context) {
  std::istringstream in{text};
  YAML::Parser parser{in};
  document_starts starts;
  for (int i = 0; i < 3 && parser.HandleNextDocument(starts); ++i) {
  }
  const std::vector<YAML::Mark>& marks = starts.marks;
  for (std::size_t i = 1; i < marks.size(); ++i) {
    if (marks[i].pos != marks[i - 1].pos) continue;
    const auto at = static_cast<std::size_t>(std::max(marks[i].pos, 0));
    context.report(marks[i].line, marks[i].column, "",
                   fmt::format("unexpected {}", quote(std::string_view{text}.substr(at, 1))));
    return;
  }
  if (marks.size() >= 2)
    context.report(marks[1].line, marks[1].column, "",
                   "a configuration is one YAML document; this is a second one");
}

document load(std::string_view text, std::string name, const load_options& options,
              std::filesystem::path base) {
  auto context = std::make_shared<detail::load_context>();
  context->file = std::move(name);
  context->budget = 100 * std::uint64_t{text.size()} + 100'000;
  document doc;
  try {
    const std::string input{text};
    const YAML::Node root = YAML::Load(input);
    check_single_document(input, *context);
    loader{options, std::move(base)}.run(node_access::root(context, root), doc);
  } catch (const YAML::Exception& e) {
    context->report(e.mark.line, e.mark.column, "", e.msg);
  } catch (const detail::too_large&) {
    context->diagnostics.push_back(
        {.file = context->file,
         .message = "the document is too large once its aliases (*name) are expanded: repeat "
                    "fewer of them"});
  }
  if (context->problems() > 0) {
    std::vector<diagnostic> diagnostics = std::move(context->diagnostics);
    std::stable_sort(diagnostics.begin(), diagnostics.end(),
                     [](const diagnostic& a, const diagnostic& b) {
                       return std::pair{a.line, a.column} < std::pair{b.line, b.column};
                     });
    if (context->dropped > 0)
      diagnostics.push_back({.file = context->file,
                             .message = fmt::format("and {} more problems", context->dropped)});
    throw error{std::move(diagnostics)};
  }
  doc.warnings = std::move(context->warnings);
  std::stable_sort(doc.warnings.begin(), doc.warnings.end(),
                   [](const diagnostic& a, const diagnostic& b) {
                     return std::pair{a.line, a.column} < std::pair{b.line, b.column};
                   });
  return doc;
}

}  // namespace

document load_file(const std::filesystem::path& path, const load_options& options) {
  std::string text;
  if (auto why = core::read_file(path, max_config_size, text))
    throw error{{{.file = path.string(), .message = fmt::format("cannot read the file: {}", *why)}}};
  return load(text, path.string(), options, path.parent_path());
}

document load_string(std::string_view text, std::string_view name, const load_options& options) {
  return load(text, std::string{name}, options, options.base_directory);
}

}  // namespace gantry::config
