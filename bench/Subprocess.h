// Subprocess: starts programs for the benchmark (cryo, the target) with chosen standard streams,
// and runs cryo commands capturing their output and timing them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cryo::bench {

// Monotonic clock in nanoseconds.
int64_t nowNs();

struct SpawnSpec {
  std::vector<std::string> argv;
  std::vector<std::string> extraEnv;             // "NAME=value" added to this environment
  int stdoutFd = -1;                             // -1: /dev/null
  int stderrFd = -1;                             // -1: /dev/null
  std::vector<std::pair<int, int>> passFds;      // {fd in the child, fd here}
  bool dieWithParent = false;                    // PR_SET_PDEATHSIG(SIGKILL) before exec
};

// Forks and execs; stdin is /dev/null; every other fd is closed in the child. Throws on failure
// to fork; a failed exec makes the child exit with status 127.
pid_t spawn(const SpawnSpec& spec);

// How one command went.
struct CommandResult {
  std::vector<std::string> argv;
  int status = 0;          // raw wait status (valid unless timedOut)
  bool timedOut = false;
  std::string out;         // standard output (up to the first line if firstLineOnly)
  std::string err;         // standard error
  double wallMs = 0;       // start to exit
  double firstLineMs = 0;  // start to the first complete line of standard output
  bool ok() const;
  std::string describe() const;  // command, how it ended, and its standard error
};

// Runs a command to completion. With firstLineOnly, standard output is read only up to its first
// line (a restored task may hold a copy of the pipe and keep it open). Gives up and kills the
// command after timeoutSec.
CommandResult runCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extraEnv, bool firstLineOnly,
                         int timeoutSec);

// Waits for `pid` (a child) with a timeout; returns true and sets `status` if it ended.
bool waitFor(pid_t pid, int timeoutMs, int& status);

// "exit 3", "killed by signal 9 (Killed)", ...
std::string describeStatus(int status);

}  // namespace cryo::bench
