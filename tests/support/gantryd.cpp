#include "support/gantryd.hpp"

#include <signal.h>

#include <cstdlib>
#include <stdexcept>

namespace gantry::testing {

std::string gantryd_binary() {
  const char* env = std::getenv("GANTRYD");
  if (env == nullptr || *env == '\0')
    throw std::runtime_error{"GANTRYD is not set: run through `meson test` or set it to the "
                             "gantryd binary"};
  return env;
}

gantryd::gantryd(const gantryd_options& options) {
  std::string upstreams;
  for (const auto& u : options.upstreams) upstreams += (upstreams.empty() ? "" : ",") + u;
  argv_ = {gantryd_binary(), "--listen", "127.0.0.1:0", "--upstream", upstreams, "--workers",
           std::to_string(options.workers)};
  if (options.quiet) argv_.push_back("--quiet");
  argv_.insert(argv_.end(), options.args.begin(), options.args.end());

  process_ = std::make_unique<child_process>(spawn_options{.argv = argv_, .env = {}, .pass_fds = {}});
  static constexpr std::string_view ready = "gantryd listening on 127.0.0.1:";
  auto line = process_->wait_for_line(ready, after(std::chrono::seconds{10}));
  if (!line) {
    process_->kill();
    process_->wait_for_output_end(after(std::chrono::seconds{2}));
    throw std::runtime_error{"gantryd did not become ready: " + describe(argv_) +
                             "\nstdout: " + process_->stdout_text() +
                             "\nstderr: " + process_->stderr_text()};
  }
  port_ = static_cast<std::uint16_t>(std::stoul(line->substr(ready.size())));
}

gantryd::~gantryd() {
  if (process_->running()) {
    process_->send_signal(SIGTERM);
    if (!process_->wait(after(std::chrono::seconds{5}))) process_->kill();
  }
}

std::optional<exit_status> gantryd::stop(int sig, deadline d) {
  process_->send_signal(sig);
  return process_->wait(d);
}

}  // namespace gantry::testing
