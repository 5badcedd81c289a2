// CommandResult: what one finished command did: its argv, extra environment, exit status, stdout and stderr.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ExitStatus.h"

namespace cryo::test {

struct CommandResult {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // variables set on top of the test's environment
  ExitStatus status;
  std::string out;
  std::string err;

  bool succeeded() const { return status.exitedWith(0); }
  // "VAR=value ... argv0 arg1 ...": the extra environment and the arguments.
  std::string commandLine() const;
  // The command line, how it ended, and what it printed: for failure messages.
  std::string describe() const;
};

}  // namespace cryo::test
