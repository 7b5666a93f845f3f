// The integration tests' main: doctest, with SIGPIPE ignored (a test writing to a socket
// the server just closed must see EPIPE, not die) and $GANTRYD defaulted to the gantryd
// this build produced, so the binary also runs outside `meson test`. The run fails if any
// gantryd crashed or printed a sanitizer report, even where no assertion was looking.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <signal.h>
#include <stdlib.h>

#include <cstdio>

#include "support/gantryd.hpp"

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
#ifdef GANTRY_TEST_GANTRYD
  ::setenv("GANTRYD", GANTRY_TEST_GANTRYD, 0);
#endif
  doctest::Context context{argc, argv};
  int result = context.run();
  if (int problems = gantry::testing::gantryd_problems(); problems > 0) {
    std::fprintf(stderr,
                 "FAILED: %d gantryd process(es) crashed, reported sanitizer errors or "
                 "did not exit 0 on SIGTERM (details above)\n",
                 problems);
    if (result == 0) result = 1;
  }
  return result;
}
