#include "support/curl.hpp"

#include <cstdlib>

namespace gantry::testing {

command_result run_curl(const std::vector<std::string>& args, deadline d) {
  const char* env = std::getenv("CURL");
  spawn_options options;
  options.argv = {env && *env ? env : "/usr/bin/curl", "--silent", "--show-error", "--noproxy",
                  "*"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  return run_command(options, d);
}

}  // namespace gantry::testing
