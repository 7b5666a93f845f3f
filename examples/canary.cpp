// A canary release: 90% of clients go to the stable cluster, 10% to the canary, and the
// "session" cookie keeps each client on the one it landed on. Usage:
//   canary STABLE_HOST:PORT CANARY_HOST:PORT [LISTEN_HOST:PORT]   (listens on 127.0.0.1:8080)
//   curl -b session=ada localhost:8080/     -> always the same cluster for "ada"
// A request without the cookie is split at random, 90/10, each time.
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>

#include "gantry/gantry.hpp"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s STABLE_HOST:PORT CANARY_HOST:PORT [LISTEN_HOST:PORT]\n",
                 argv[0]);
    return 2;
  }
  const char* listen = argc == 4 ? argv[3] : "127.0.0.1:8080";

  asio::io_context io;
  gantry::gateway gw{io};
  gw.cluster("stable", {argv[1]}).cluster("canary", {argv[2]});

  // The sticky cookie's value, hashed, picks the cluster; with the canary listed last, raising
  // its weight later only moves clients onto it, never off it.
  namespace route = gantry::route;
  gw.route({.name = "canary",
            .action = route::weighted_split{
                .clusters = {{"stable", 90}, {"canary", 10}},
                .sticky = route::sticky_key{.from = route::sticky_key::source::cookie,
                                            .name = "session"}}});

  auto bound = gw.listen(listen);
  std::printf("canary listening on %s:%u, stable %s, canary %s\n",
              bound.address().to_string().c_str(), bound.port(), argv[1], argv[2]);
  std::fflush(stdout);

  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](auto, int) { gw.stop(); });  // graceful: drain, then return
  io.run();
}
