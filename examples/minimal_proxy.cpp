// The smallest embedding of Gantry: a reverse proxy inside a program that owns its
// io_context. Usage: minimal_proxy LISTEN_HOST:PORT UPSTREAM_HOST:PORT
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>

#include "gantry/gantry.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s LISTEN_HOST:PORT UPSTREAM_HOST:PORT\n", argv[0]);
    return 2;
  }
  asio::io_context io;  // the host program's own context

  gantry::gateway gw{io};
  gw.cluster("backend", {argv[2]});
  auto bound = gw.listen(argv[1]);
  std::printf("proxying %s:%u -> %s\n", bound.address().to_string().c_str(), bound.port(), argv[2]);
  std::fflush(stdout);

  // Ctrl-C: stop accepting, let in-flight requests finish, then io.run() returns.
  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](auto, int) { gw.stop(); });

  io.run();
}
