#include "gantry/gateway/route_chain.hpp"

#include <stdexcept>
#include <utility>
#include <variant>

#include "gantry/route/request_view.hpp"
#include "snapshot.hpp"

namespace gantry {
namespace {

route_chain chain_of(const detail::route_set& compiled, const detail::route_entry& entry) {
  route_chain out{entry.chain, {}, std::nullopt};
  const route::route* r = entry.route;
  if (r == nullptr) {
    if (!compiled.fallback_proxies) {
      out.answer = route::direct_response{
          .status = http::status::not_found,
          .headers = {},
          .body = "404 Not Found\n",
      };
      out.answer->headers.add("Content-Type", "text/plain; charset=utf-8");
    }
    return out;
  }
  out.route_name = r->name;
  if (const auto* direct = std::get_if<route::direct_response>(&r->action)) {
    out.answer = *direct;
  } else if (const auto* redirect = std::get_if<route::redirect>(&r->action)) {
    out.answer = route::direct_response{.status = redirect->status, .headers = {}, .body = {}};
    out.answer->headers.add("Location", redirect->location);
  }
  return out;
}

const detail::route_set& routes_of(const detail::snapshot& compiled, std::string_view listener) {
  const detail::route_set* routes = compiled.listener(listener);
  if (routes == nullptr)
    throw std::invalid_argument("no listener is named \"" + std::string{listener} + "\"");
  return *routes;
}

}  // namespace

route_chain chain_of_route(const gateway_config& config, std::string_view route_name,
                           std::string_view listener) {
  const auto compiled = detail::snapshot::compile(config);
  const detail::route_set& routes = routes_of(*compiled, listener);
  for (const detail::route_entry& entry : routes.routes)
    if (entry.route != nullptr && entry.route->name == route_name) return chain_of(routes, entry);
  throw std::invalid_argument("no route is named \"" + std::string{route_name} + "\"");
}

route_chain chain_for_request(const gateway_config& config, const http::request& request,
                              std::string_view listener) {
  const auto compiled = detail::snapshot::compile(config);
  route::captures params;
  const detail::route_set& routes = routes_of(*compiled, listener);
  return chain_of(routes, routes.select(route::request_view::from(request), params));
}

}  // namespace gantry
