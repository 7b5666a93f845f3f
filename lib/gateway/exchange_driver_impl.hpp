#pragma once
// The definitions of `exchange_driver`, for the translation units that instantiate it with
// their downstream port.

#include <variant>

#include "exchange_driver.hpp"
#include "exchange_flow_impl.hpp"
#include "gantry/gateway/proxy_error.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/route/path_rewrite.hpp"
#include "gantry/route/request_view.hpp"
#include "gantry/route/weighted_split.hpp"
#include "snapshot.hpp"
#include "unobserved_clock.hpp"
#include "worker.hpp"

namespace gantry::detail {
template <class Downstream>
exchange_driver<Downstream>::exchange_driver(worker& owner, Downstream& down, std::string& out,
                                             std::string& scratch)
    : owner_{owner},
      scratch_{scratch},
      upstream_{owner, out, scratch},
      flow_{exchange_, down, upstream_, scratch} {}

template <class Downstream>
void exchange_driver<Downstream>::begin(http::request& head) {
  if (view_ != owner_.view() || routes_ == nullptr) {  // a reload: the newest from now on
    view_ = owner_.view();
    routes_ = view_->config->listener(listener_);
    // A listener a reload declared reaches this worker after the reload does, so this only
    // happens when a host-context listen() races a reload from another thread: such an
    // exchange is answered 404, with no policy.
    if (routes_ == nullptr) routes_ = &unconfigured_listener;
  }
  exchange_.reset();
  exchange_.worker = owner_.index();
  std::swap(exchange_.request, head);  // both keep their buffers

  // Routing reads a copy of the target, so captures stay valid whatever policies rewrite.
  matched_target_.assign(exchange_.request.target);
  route::request_view view = route::request_view::from(exchange_.request);
  auto rebase = [&](std::string_view& part) {
    const std::string& from = exchange_.request.target;
    if (part.data() >= from.data() && part.data() <= from.data() + from.size())
      part = std::string_view{matched_target_}.substr(
          static_cast<std::size_t>(part.data() - from.data()), part.size());
  };
  rebase(view.host);
  rebase(view.path);
  rebase(view.query);
  entry_ = &routes_->select(view, captures_);
  flow_.use(entry_->chain, entry_->proxy_credentials());
  exchange_.start(entry_->chain.empty() ? static_cast<const policy::clock&>(unobserved)
                                        : policy::clock::real());

  std::size_t n = 0;
  for (const route::capture& c : captures_) params_[n++] = {c.name, c.value};
  exchange_.params = {params_.data(), n};
  const route::route* r = entry_->route;
  exchange_.route_name = r != nullptr ? std::string_view{r->name} : std::string_view{};
  upstream_.bound_by(r != nullptr && r->timeout ? clock::now() + *r->timeout
                                                : clock::time_point::max());
}

template <class Downstream>
asio::awaitable<after> exchange_driver<Downstream>::route_exchange() {
  const route::route* r = entry_->route;
  if (r == nullptr) {
    if (!routes_->fallback_proxies) {
      exchange_.respond(http::status::not_found, "404 Not Found\n", "text/plain; charset=utf-8");
      return flow_.send_local(false);
    }
    return forward(0);
  }

  std::uint32_t cluster = entry_->cluster;
  if (const auto* split = std::get_if<route::weighted_split>(&r->action)) {
    const route::weighted_cluster& picked =
        route::pick_cluster(*split, exchange_.request.fields, owner_.random());
    cluster = entry_->split[static_cast<std::size_t>(&picked - split->clusters.data())];
  } else if (const auto* redirect = std::get_if<route::redirect>(&r->action)) {
    exchange_.respond(redirect->status);
    scratch_.clear();
    if (redirect->to_https)
      https_location(*redirect);
    else
      route::expand_captures(redirect->location, captures_, scratch_);
    exchange_.response.fields.add("Location", scratch_);
    return flow_.send_local(false);
  } else if (const auto* direct = std::get_if<route::direct_response>(&r->action)) {
    exchange_.respond(direct->status, direct->body);
    for (http::field f : direct->headers) exchange_.response.fields.add(f.name, f.value);
    return flow_.send_local(false);
  } else if (const auto* picker = std::get_if<route::pick_upstream>(&r->action)) {
    const route::upstream_choice choice = picker->pick(exchange_);
    const snapshot& config = *view_->config;
    const auto found = config.cluster_by_name.find(choice.cluster);
    if (found == config.cluster_by_name.end() ||
        (choice.endpoint && *choice.endpoint >= config.clusters[found->second].endpoints.size()))
      return flow_.refuse(proxy_errc::no_upstream);
    apply_rewrites();
    return forward(found->second, choice.endpoint);
  }
  apply_rewrites();
  return forward(cluster);
}

template <class Downstream>
void exchange_driver<Downstream>::https_location(const route::redirect& to) {
  // The host the client asked for, without its port ("[::1]:8080" keeps its brackets).
  std::string_view host = exchange_.request.fields.get("Host").value_or("");
  if (const auto colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    host = host.substr(0, colon);
  scratch_.append("https://");
  if (!host.empty()) {
    scratch_.append(host);
  } else {  // an HTTP/1.0 request without Host: the address it came to
    const std::string_view local = exchange_.downstream.local_address;
    const bool v6 = local.find(':') != std::string_view::npos;
    scratch_.append(v6 ? "[" : "").append(local).append(v6 ? "]" : "");
  }
  if (to.https_port != 443) scratch_.append(":").append(std::to_string(to.https_port));
  scratch_.append(matched_target_);  // the target as the client sent it
}

template <class Downstream>
void exchange_driver<Downstream>::apply_rewrites() {
  const route::route& r = *entry_->route;
  http::request& req = exchange_.request;
  if (r.rewrite) {
    // The path part of the target, as policies left it; the query goes along unchanged.
    std::string_view target = req.target;
    const std::size_t query = target.find('?');
    scratch_.clear();
    route::rewrite_path(*r.rewrite, target.substr(0, query), captures_, scratch_);
    if (query != std::string_view::npos) scratch_.append(target.substr(query));
    req.target.assign(scratch_);
  }
}

template <class Downstream>
asio::awaitable<after> exchange_driver<Downstream>::forward(std::uint32_t cluster_index,
                                                            std::optional<std::size_t> endpoint) {
  const snapshot& config = *view_->config;
  const upstream::cluster& cluster = config.clusters[cluster_index];
  const std::size_t pick =
      endpoint ? *endpoint : view_->balancers[cluster_index].pick(cluster.endpoints.size());
  const upstream::endpoint& target = cluster.endpoints[pick];
  exchange_.cluster = cluster.name;
  exchange_.endpoint = target.name;
  const route::route* r = entry_->route;
  const std::uint32_t endpoint_number = config.first_endpoint[cluster_index] +
                                        static_cast<std::uint32_t>(pick);
  const auto& tls = config.tls_of_cluster[cluster_index];
  return flow_.forward({
      .slot = view_->pool_slot[endpoint_number],
      .address = &target.address,
      .name = target.name,
      .host_rewrite = r != nullptr ? std::string_view{r->host_rewrite} : std::string_view{},
      .tls = tls ? &tls : nullptr,
      .server_name = config.tls_server_name[endpoint_number],
  });
}

}  // namespace gantry::detail
