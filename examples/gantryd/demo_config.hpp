#pragma once
// The configuration gantryd serves when started without arguments: the same YAML a user
// would write, in front of two in-process versions of the demo API. ${V1} and ${V2} stand
// for their addresses, which are only known once they listen.

#include <string_view>

namespace gantry::demo {

inline constexpr std::string_view demo_config = R"yaml(
listen: ["127.0.0.1:8080"]
admin: {listen: "127.0.0.1:9901"}    # GET /metrics (Prometheus), GET /healthz

clusters:
  - {name: demo-v1, endpoints: ["${V1}"]}
  - {name: demo-v2, endpoints: ["${V2}"]}

policies:
  - {name: request-id, type: request-id}
  # One JSON line per exchange on stdout, and counters and latency histograms per route,
  # cluster and status class, scraped from the admin listener.
  - {name: access-log, type: access-log, config: {destination: stdout}}
  - {name: metrics, type: metrics}
  - name: served-by
    type: headers
    config: {response: {set: {X-Served-By: "gantry ({header.Host})"}}}

listener_policies: [request-id, access-log, metrics, served-by]

routes:
  # 90 % of clients see v1, 10 % the canary v2; the session cookie keeps each on one.
  - name: users
    match: {methods: [GET, HEAD], path: {template: "/users/{id}"}}
    split:
      - {cluster: demo-v1, weight: 90}
      - {cluster: demo-v2, weight: 10}
    sticky: {cookie: session}
  - name: mock
    match: {path: {exact: /mock/order}}
    direct:
      status: 200
      headers: {Content-Type: application/json}
      body: "{\"order\": 42, \"status\": \"mocked by the gateway\"}\n"
  - name: old-hello
    match: {path: {exact: /old-hello}}
    redirect: {status: 301, location: /hello}
  - name: api
    match: {path: {prefix: /}}
    cluster: demo-v1
)yaml";

}  // namespace gantry::demo
