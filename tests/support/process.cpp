#include "support/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace gantry::testing {
namespace {

std::runtime_error system_failure(const std::string& what, int error) {
  return std::runtime_error{what + ": " + std::strerror(error)};
}

// The test's environment with `overrides` ("NAME=value") replacing or adding entries.
std::vector<std::string> merged_environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> result;
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry{*e};
    bool replaced = false;
    for (const auto& o : overrides) replaced = replaced || name_of(o) == name_of(entry);
    if (!replaced) result.push_back(std::move(entry));
  }
  result.insert(result.end(), overrides.begin(), overrides.end());
  return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

child_process::child_process(const spawn_options& options) {
  if (options.argv.empty()) throw std::runtime_error{"spawn: empty argv"};
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw system_failure("pipe2", errno);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw system_failure("pipe2", e);
  }

  // Descriptors to pass are first duplicated high, so that dup2 onto 3, 4, ... never
  // overwrites one still to be copied.
  std::vector<int> staged;
  for (int fd : options.pass_fds) staged.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  int next = 3;
  for (int fd : staged) posix_spawn_file_actions_adddup2(&actions, fd, next++);
  // Asio opens sockets without SOCK_CLOEXEC: without this a stub upstream's connection
  // would live on in the child and hide the stub's close from the proxy.
  posix_spawn_file_actions_addclosefrom_np(&actions, next);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGQUIT);
  sigaddset(&defaults, SIGHUP);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  auto args = options.argv;
  auto env = merged_environment(options.env);
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  int rc = ::posix_spawn(&pid_, argv[0], &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  for (int fd : staged) ::close(fd);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    pid_ = -1;
    throw system_failure("posix_spawn " + options.argv[0], rc);
  }
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  out_->reader = std::thread{[fd = out_pipe[0], this] { drain(fd, *out_); }};
  err_->reader = std::thread{[fd = err_pipe[0], this] { drain(fd, *err_); }};
}

child_process::~child_process() {
  kill();
  if (out_->reader.joinable()) out_->reader.join();
  if (err_->reader.joinable()) err_->reader.join();
  if (pidfd_ >= 0) ::close(pidfd_);
}

void child_process::drain(int fd, capture& into) {
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock{into.mutex};
    if (n <= 0) {
      into.closed = true;
      into.changed.notify_all();
      break;
    }
    into.text.append(buffer, static_cast<std::size_t>(n));
    into.changed.notify_all();
  }
  ::close(fd);
}

std::optional<std::string> child_process::wait_for_line(std::string_view prefix, deadline d) {
  std::unique_lock lock{out_->mutex};
  std::size_t searched = 0;  // lines before this offset did not match
  auto scan = [&]() -> std::optional<std::string> {
    const std::string& text = out_->text;
    for (;;) {
      auto end = text.find('\n', searched);
      if (end == std::string::npos) return std::nullopt;
      std::string_view line{text.data() + searched, end - searched};
      if (line.substr(0, prefix.size()) == prefix) return std::string{line};
      searched = end + 1;
    }
  };
  for (;;) {
    if (auto line = scan()) return line;
    if (out_->closed) return std::nullopt;
    if (out_->changed.wait_until(lock, d) == std::cv_status::timeout) return scan();
  }
}

bool child_process::wait_for_output_end(deadline d) {
  for (capture* c : {out_.get(), err_.get()}) {
    std::unique_lock lock{c->mutex};
    if (!c->changed.wait_until(lock, d, [c] { return c->closed; })) return false;
  }
  return true;
}

std::string child_process::stdout_text() const {
  std::lock_guard lock{out_->mutex};
  return out_->text;
}

std::string child_process::stderr_text() const {
  std::lock_guard lock{err_->mutex};
  return err_->text;
}

bool child_process::reap(bool block) {
  if (status_) return true;
  if (pid_ < 0) return true;
  int raw = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  exit_status s;
  if (WIFEXITED(raw)) {
    s.exited = true;
    s.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    s.signal = WTERMSIG(raw);
  }
  status_ = s;
  return true;
}

bool child_process::send_signal(int sig) {
  if (reap(false)) return false;
  if (pidfd_ >= 0) return ::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0) == 0;
  return ::kill(pid_, sig) == 0;
}

std::optional<exit_status> child_process::wait(deadline d) {
  for (;;) {
    if (reap(false)) return status_;
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      int n = ::poll(&p, 1, remaining_ms(d));
      if (n == 0) return reap(false) ? status_ : std::nullopt;
    } else {
      if (clock::now() >= d) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
  }
}

bool child_process::running() { return !reap(false); }

void child_process::kill() {
  if (reap(false)) return;
  send_signal(SIGKILL);
  reap(true);
}

memory_usage child_process::memory() const {
  memory_usage m;
  std::ifstream in{"/proc/" + std::to_string(pid_) + "/status"};
  std::string line;
  auto kib = [](const std::string& l) { return std::stoull(l.substr(l.find(':') + 1)) * 1024; };
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss = kib(line);
    if (line.rfind("VmHWM:", 0) == 0) m.hwm = kib(line);
  }
  return m;
}

int child_process::fd_count() const {
  std::string path = "/proc/" + std::to_string(pid_) + "/fd";
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

command_result run_command(const spawn_options& options, deadline d) {
  command_result result;
  child_process child{options};
  auto status = child.wait(d);
  if (!status) {
    result.timed_out = true;
    child.kill();
    status = child.wait(after(std::chrono::seconds{5}));
  }
  if (status) result.status = *status;
  // The readers see end of file once the child is gone; wait for them to have it all.
  child.wait_for_output_end(after(std::chrono::seconds{5}));
  result.out = child.stdout_text();
  result.err = child.stderr_text();
  return result;
}

std::string exit_status::describe() const {
  if (exited) return "exit " + std::to_string(code);
  return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
}

std::string describe(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t'\"\\$") == std::string::npos;
    s += plain ? a : "'" + a + "'";
  }
  return s;
}

}  // namespace gantry::testing
