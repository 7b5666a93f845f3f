// The integration tests' main: doctest, with SIGPIPE ignored (a test writing to a socket
// the server just closed must see EPIPE, not die) and $GANTRYD defaulted to the gantryd
// this build produced, so the binary also runs outside `meson test`.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <signal.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
#ifdef GANTRY_TEST_GANTRYD
  ::setenv("GANTRYD", GANTRY_TEST_GANTRYD, 0);
#endif
  doctest::Context context{argc, argv};
  return context.run();
}
