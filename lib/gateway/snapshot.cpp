#include "snapshot.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

#include <asio/ip/address.hpp>

#include "../net/tls_context.hpp"
#include "gantry/net/address.hpp"

namespace gantry::detail {
namespace {

// How messages name a route: by name, or "#n" counting from 1, as the route table does.
std::string route_label(const route::route& r, std::size_t index) {
  std::string label = "route ";
  if (r.name.empty()) {
    label.append("#").append(std::to_string(index + 1));
  } else {
    label.append("'").append(r.name).append("'");
  }
  return label;
}

class problems {
 public:
  void add(std::string message) {
    if (!text_.empty()) text_.push_back('\n');
    text_.append(message);
  }
  void throw_if_any() const {
    if (!text_.empty()) throw std::invalid_argument(text_);
  }

 private:
  std::string text_;
};

// Each line of `text` as a problem of its own, after `prefix`.
void add_lines(problems& errors, const std::string& prefix, std::string_view text) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    errors.add(prefix + std::string{text.substr(0, end)});
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
}

}  // namespace

std::shared_ptr<const snapshot> snapshot::compile(const gateway_config& config,
                                                   served_names served) {
  auto s = std::make_shared<snapshot>();
  problems errors;

  std::unordered_map<std::string_view, std::uint32_t> cluster_index;
  for (const cluster_config& c : config.clusters) {
    if (c.name.empty()) {
      errors.add("a cluster has no name");
      continue;
    }
    if (c.endpoints.empty()) errors.add("cluster '" + c.name + "' has no endpoints");
    if (!cluster_index.emplace(c.name, static_cast<std::uint32_t>(s->clusters.size())).second) {
      errors.add("cluster '" + c.name + "' is declared twice");
      continue;
    }
    try {
      s->first_endpoint.push_back(s->endpoint_count);
      s->clusters.push_back(upstream::cluster::from_addresses(c.name, c.endpoints));
      s->endpoint_count += static_cast<std::uint32_t>(s->clusters.back().endpoints.size());
    } catch (const std::invalid_argument& e) {
      s->first_endpoint.pop_back();
      cluster_index.erase(c.name);
      errors.add(e.what());
      continue;
    }
    s->settings_of_clusters.push_back(c.tls);
    std::shared_ptr<const net::tls_context>& tls = s->tls_of_cluster.emplace_back();
    const upstream::cluster& compiled = s->clusters.back();
    for (const upstream::endpoint& e : compiled.endpoints) {
      std::string& name = s->tls_server_name.emplace_back();
      if (!c.tls) continue;
      name = c.tls->server_name;
      if (!name.empty()) continue;
      // The endpoint's host; an address names no certificate (mbedTLS 2.28 checks DNS names
      // only) and is no SNI.
      if (!net::host_is_address(e.name))
        name = net::host_of(e.name);
      else if (c.tls->verify)
        errors.add("cluster '" + c.name + "': tls.server_name: required, as endpoint '" +
                   e.name + "' is an IP address");
    }
    if (!c.tls) continue;
    try {
      tls = net::tls_context::client(*c.tls);
    } catch (const std::invalid_argument& e) {
      add_lines(errors, "cluster '" + c.name + "': tls.", e.what());
    }
  }

  for (std::uint32_t i = 0; i < s->clusters.size(); ++i)
    s->cluster_by_name.emplace(s->clusters[i].name, i);

  std::unordered_map<std::string_view, const policy::chain*> policies;
  for (const named_policy& p : config.policies) {
    if (p.name.empty())
      errors.add("a policy has no name");
    else if (!policies.emplace(p.name, &p.chain).second)
      errors.add("policy '" + p.name + "' is declared twice");
  }
  auto append_policies = [&](policy::chain& chain, const std::vector<std::string>& names,
                             const std::string& where) {
    for (const std::string& name : names) {
      auto it = policies.find(name);
      if (it == policies.end())
        errors.add(where + " uses policy '" + name + "', which is not declared");
      else
        chain.append(*it->second, name);  // reported (timings) under its configured name
    }
  };
  // Cluster references, checked before the tables are built so every problem shows at once.
  auto resolve = [&](const std::string& name, const std::string& where) -> std::uint32_t {
    auto it = cluster_index.find(name);
    if (it != cluster_index.end()) return it->second;
    // An empty name is the route table's to report; a dangling one is ours.
    if (!name.empty() && !config.clusters.empty())
      errors.add(where + " sends to cluster '" + name + "', which is not declared");
    else if (!name.empty())
      errors.add(where + " sends to cluster '" + name + "', but no cluster is declared");
    return 0;
  };

  // One listener's routes and policies; `listener` names it in messages, and what is said of
  // its routes starts with `where` ("" for the gateway's own).
  auto compile_routes = [&](route_set& set, const std::vector<route::route>& declared,
                            const std::vector<std::string>& listener_policies,
                            const std::string& listener, const std::string& where) {
    policy::chain listener_chain;
    append_policies(listener_chain, listener_policies, listener);
    route::route_table::builder builder;
    for (const route::route& r : declared) builder.add(r);
    try {
      set.table = std::move(builder).build();
    } catch (const std::invalid_argument& e) {
      errors.add(where + e.what());
    }
    // The table holds the routes as built (with defaults filled in); entries point into it.
    // When building failed, the declared routes are checked for references all the same.
    const std::span<const route::route> routes =
        set.table.empty() ? std::span<const route::route>{declared} : set.table.routes();
    for (std::size_t i = 0; i < routes.size(); ++i) {
      const route::route& r = routes[i];
      const std::string label = where + route_label(r, i);
      route_entry entry;
      entry.route = &r;
      entry.chain = listener_chain;
      append_policies(entry.chain, r.policies, label);
      entry.chain.append(r.chain);  // the route's own objects, last
      if (const auto* p = std::get_if<route::proxy>(&r.action)) {
        entry.cluster = resolve(p->cluster, label);
      } else if (const auto* split = std::get_if<route::weighted_split>(&r.action)) {
        for (const route::weighted_cluster& w : split->clusters)
          entry.split.push_back(resolve(w.cluster, label));
      }
      set.routes.push_back(std::move(entry));
    }
    set.fallback.chain = std::move(listener_chain);
    set.fallback_proxies = declared.empty();
    if (set.fallback_proxies && config.clusters.empty())
      errors.add(where.empty() ? std::string{"nothing to serve: declare a cluster, or routes"}
                               : where + "nothing to serve: declare routes, or a cluster");
  };

  s->listeners.reserve(1 + config.listeners.size());
  compile_routes(s->listeners.emplace_back(), config.routes, config.listener_policies,
                 "the listener", "");
  for (const listener_config& l : config.listeners) {
    if (l.name.empty()) {
      errors.add("a listener has no name");
      continue;
    }
    if (s->listener(l.name) != nullptr) {
      errors.add("listener '" + l.name + "' is declared twice");
      continue;
    }
    route_set& set = s->listeners.emplace_back();
    set.name = l.name;
    const std::string listener = "listener '" + l.name + "'";
    compile_routes(set, l.routes, l.listener_policies, listener, listener + ": ");
  }
  for (const named_tls& t : config.tls) {
    if (t.name.empty()) {
      errors.add("a TLS entry has no name");
      continue;
    }
    if (s->tls_context(t.name) != nullptr) {
      errors.add("tls '" + t.name + "' is declared twice");
      continue;
    }
    try {
      s->tls.emplace_back(t.name, net::tls_context::server(t.settings));
    } catch (const std::invalid_argument& e) {
      add_lines(errors, "tls '" + t.name + "': ", e.what());
    }
  }

  // Names addresses serve, each said once, though served on several addresses.
  auto require = [&](std::span<const std::string> names, const char* what, auto&& declared) {
    std::vector<std::string_view> missing;
    for (const std::string& name : names) {
      if (declared(name) || std::find(missing.begin(), missing.end(), name) != missing.end())
        continue;
      missing.push_back(name);
      errors.add(std::string{what} + " '" + name + "' is being served, so it cannot be removed");
    }
  };
  require(served.listeners, "listener",
          [&](const std::string& name) { return s->listener(name) != nullptr; });
  require(served.tls, "tls", [&](const std::string& name) {
    // Declared is enough: a declared entry whose files failed has its problem said above.
    return std::any_of(config.tls.begin(), config.tls.end(),
                       [&](const named_tls& t) { return t.name == name; });
  });
  errors.throw_if_any();
  return s;
}

}  // namespace gantry::detail
