#pragma once
/// @file
/// Runs the real curl as a third-party client.

#include <string>
#include <vector>

#include "support/deadline.hpp"
#include "support/process.hpp"

namespace gantry::testing {

/// Runs /usr/bin/curl (or $CURL) with `args` (`--silent --show-error` come first) and returns
/// what it printed and how it exited; killed at the deadline.
command_result run_curl(const std::vector<std::string>& args, deadline d);

}  // namespace gantry::testing
