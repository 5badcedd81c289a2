// CommandRunner: runs a command with stdin from /dev/null, captures its stdout and stderr and exit status, and kills it after a deadline.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "CommandResult.h"

namespace cryo::test {

class CommandRunner {
 public:
  // Runs argv (argv[0] is a path). `env` adds or replaces variables; CRYO_FAULT is never passed
  // on from the test's own environment, only when `env` names it.
  static CommandResult run(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env,
                           std::chrono::milliseconds timeout);
};

}  // namespace cryo::test
