// A policy of the host's own (example::api_key, in api_key.hpp): declared under a name with
// gateway::policy, then run on the routes that list it. Usage:
//   custom_policy UPSTREAM_HOST:PORT [LISTEN_HOST:PORT]     (listens on 127.0.0.1:8080)
//   curl -i localhost:8080/hello                          -> 401
//   curl -i -H 'X-Api-Key: key-ada' localhost:8080/hello  -> the upstream's answer
//   curl -i localhost:8080/health                         -> 200, no key needed
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <utility>

#include "api_key.hpp"
#include "gantry/gantry.hpp"

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s UPSTREAM_HOST:PORT [LISTEN_HOST:PORT]\n", argv[0]);
    return 2;
  }
  const char* upstream = argv[1];
  const char* listen = argc == 3 ? argv[2] : "127.0.0.1:8080";

  asio::io_context io;
  gantry::gateway gw{io};
  gw.cluster("backend", {upstream});

  // Keys would come from the host's own store; two fixed ones keep the example short.
  example::api_key keys{.consumers = {{"key-ada", "ada"}, {"key-lin", "lin"}}};
  gw.policy("api-key", gantry::policy::chain{}.add(std::move(keys)));

  // Only routes that list the policy run it: /health answers without a key.
  gw.route({.name = "health",
            .match = {.path = gantry::route::path_exact{"/health"}},
            .action = gantry::route::direct_response{.body = "ok\n"}});
  gw.route({.name = "api", .action = gantry::route::proxy{"backend"}, .policies = {"api-key"}});

  auto bound = gw.listen(listen);
  std::printf("custom_policy listening on %s:%u, upstream %s\n",
              bound.address().to_string().c_str(), bound.port(), upstream);
  std::fflush(stdout);

  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](auto, int) { gw.stop(); });  // graceful: drain, then return
  io.run();
}
