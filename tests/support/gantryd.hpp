#pragma once
/// @file
/// Starts the reference daemon `gantryd` on an ephemeral loopback port and reads the port
/// back from its readiness line ("gantryd listening on 127.0.0.1:PORT").

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/deadline.hpp"
#include "support/process.hpp"

namespace gantry::testing {

struct gantryd_options {
  /// "127.0.0.1:PORT" each.
  std::vector<std::string> upstreams;
  int workers = 1;
  bool quiet = true;
  /// More flags, e.g. {"--upstream-timeout", "300"}.
  std::vector<std::string> args;
};

/// The path of the gantryd binary: $GANTRYD (the meson test sets it).
std::string gantryd_binary();

/// How many gantryd processes so far crashed, printed sanitizer reports, or did not exit 0 on
/// the SIGTERM they got at the end of their test. Each is described on stderr when found;
/// the test main fails the run when this is not zero, so a problem inside gantryd that no
/// assertion looked at still fails the suite.
int gantryd_problems();

class gantryd {
 public:
  /// Starts gantryd and waits (10 s at most) for its readiness line; throws
  /// std::runtime_error with its stderr if it does not get there.
  explicit gantryd(const gantryd_options& options);
  /// Stops gantryd with SIGTERM (SIGKILL 5 s later) and checks how it ended and its stderr
  /// (see `gantryd_problems`).
  ~gantryd();

  std::uint16_t port() const noexcept { return port_; }
  child_process& process() noexcept { return *process_; }
  const std::vector<std::string>& argv() const noexcept { return argv_; }

  memory_usage memory() const { return process_->memory(); }
  int fd_count() const { return process_->fd_count(); }
  /// Sends `sig` and waits for the exit; nullopt if it is still running at the deadline.
  std::optional<exit_status> stop(int sig, deadline d);

 private:
  std::vector<std::string> argv_;
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace gantry::testing
