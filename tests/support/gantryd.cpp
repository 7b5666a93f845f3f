#include "support/gantryd.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace gantry::testing {
namespace {

std::atomic<int> problems{0};

void report_problem(const std::string& what, const std::vector<std::string>& argv,
                    const std::string& err) {
  ++problems;
  std::fprintf(stderr, "\n*** gantryd problem: %s\n*** command: %s\n*** stderr:\n%s\n",
               what.c_str(), describe(argv).c_str(), err.c_str());
}

}  // namespace

int gantryd_problems() { return problems.load(); }

std::string gantryd_binary() {
  const char* env = std::getenv("GANTRYD");
  if (env == nullptr || *env == '\0')
    throw std::runtime_error{
        "GANTRYD is not set: run through `meson test` or set it to the "
        "gantryd binary"};
  return env;
}

gantryd::gantryd(const gantryd_options& options) {
  std::string upstreams;
  for (const auto& u : options.upstreams) upstreams += (upstreams.empty() ? "" : ",") + u;
  argv_ = {gantryd_binary(),
           "--listen",
           "127.0.0.1:0",
           "--upstream",
           upstreams,
           "--workers",
           std::to_string(options.workers)};
  if (options.quiet) argv_.push_back("--quiet");
  argv_.insert(argv_.end(), options.args.begin(), options.args.end());

  process_ =
      std::make_unique<child_process>(spawn_options{.argv = argv_, .env = {}, .pass_fds = {}});
  static constexpr std::string_view ready = "gantryd listening on 127.0.0.1:";
  auto line = process_->wait_for_line(ready, after(std::chrono::seconds{10}));
  if (!line) {
    process_->kill();
    process_->wait_for_output_end(after(std::chrono::seconds{2}));
    throw std::runtime_error{"gantryd did not become ready: " + describe(argv_) + "\nstdout: " +
                             process_->stdout_text() + "\nstderr: " + process_->stderr_text()};
  }
  port_ = static_cast<std::uint16_t>(std::stoul(line->substr(ready.size())));
}

gantryd::~gantryd() {
  bool stopped_by_us = process_->send_signal(SIGTERM);
  auto status = process_->wait(after(std::chrono::seconds{5}));
  if (!status) {
    std::fprintf(stderr, "\nnote: gantryd still draining 5 s after SIGTERM, killed: %s\n",
                 describe(argv_).c_str());
    process_->kill();
  }
  process_->wait_for_output_end(after(std::chrono::seconds{2}));
  auto err = process_->stderr_text();
  if (err.find("Sanitizer") != std::string::npos ||
      err.find("runtime error:") != std::string::npos) {
    report_problem("sanitizer report", argv_, err);
  } else if (status && !status->exited && status->signal != SIGTERM) {
    report_problem(status->describe(), argv_, err);
  } else if (status && stopped_by_us && !status->ok()) {
    // A test that stopped gantryd itself checks the status; this is the final SIGTERM.
    report_problem("on SIGTERM: " + status->describe(), argv_, err);
  }
}

std::optional<exit_status> gantryd::stop(int sig, deadline d) {
  process_->send_signal(sig);
  return process_->wait(d);
}

}  // namespace gantry::testing
