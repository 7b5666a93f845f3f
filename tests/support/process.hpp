#pragma once
/// @file
/// Child processes for integration tests: spawn with posix_spawn, capture output, wait for a
/// readiness line, signal, wait with a deadline, read memory and fd counts from /proc.
/// The child is killed when its `child_process` is destroyed.

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/deadline.hpp"

namespace gantry::testing {

/// How to start a child.
struct spawn_options {
  /// argv[0] is the program's path (no PATH search).
  std::vector<std::string> argv;
  /// "NAME=value" entries added to (or replacing in) the test's own environment.
  std::vector<std::string> env;
  /// Descriptors handed to the child, which sees them as 3, 4, ... in this order; every other
  /// descriptor above 2 is closed in the child, so no test socket leaks into it.
  std::vector<int> pass_fds;
};

/// How a child ended.
struct exit_status {
  bool exited = false;  ///< Ended by exit(): `code` is valid.
  int code = -1;
  int signal = 0;  ///< Killed by this signal when `exited` is false.
  bool ok() const noexcept { return exited && code == 0; }
  /// "exit 0", "killed by signal 11 (Segmentation fault)".
  std::string describe() const;
};

/// Memory figures from /proc/PID/status, in bytes.
struct memory_usage {
  std::uint64_t rss = 0;  ///< VmRSS: resident now.
  std::uint64_t hwm = 0;  ///< VmHWM: the peak resident size so far.
};

/// A running child with its stdout and stderr captured by two reader threads.
class child_process {
 public:
  /// Starts the child; throws std::runtime_error when it cannot be started.
  explicit child_process(const spawn_options& options);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Waits until stdout holds a complete line starting with `prefix` and returns it (without
  /// the newline); nullopt when the deadline passes or stdout closes first.
  std::optional<std::string> wait_for_line(std::string_view prefix, deadline d);
  /// Waits until the child's stdout and stderr are closed (it has exited, normally).
  bool wait_for_output_end(deadline d);
  /// Everything the child wrote to stdout / stderr so far.
  std::string stdout_text() const;
  std::string stderr_text() const;

  /// Sends `sig`; false when the child is already reaped.
  bool send_signal(int sig);
  /// Waits until the child ends; nullopt when the deadline passes first.
  std::optional<exit_status> wait(deadline d);
  /// True until the child has ended (reaps it if it has).
  bool running();
  /// SIGKILL and reap, if still running.
  void kill();

  /// VmRSS and VmHWM; zeros once the child is gone.
  memory_usage memory() const;
  /// Number of open descriptors (/proc/PID/fd entries), or -1 once the child is gone.
  int fd_count() const;

 private:
  struct capture {
    mutable std::mutex mutex;
    std::condition_variable changed;
    std::string text;
    bool closed = false;
    std::thread reader;
  };

  static void drain(int fd, capture& into);
  bool reap(bool block);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<exit_status> status_;
  std::unique_ptr<capture> out_ = std::make_unique<capture>();
  std::unique_ptr<capture> err_ = std::make_unique<capture>();
};

/// What a finished command produced.
struct command_result {
  bool timed_out = false;  ///< The deadline passed and the command was killed.
  exit_status status;
  std::string out;
  std::string err;
};

/// Runs a command to completion (or kills it at the deadline) and returns its output.
command_result run_command(const spawn_options& options, deadline d);

/// Quotes argv for a log message, e.g. in a failed CHECK's INFO.
std::string describe(const std::vector<std::string>& argv);

}  // namespace gantry::testing
