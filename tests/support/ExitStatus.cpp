// ExitStatus: how a waited-for process ended (exit code, signal, or not seen ending), comparable and printable.
#include "ExitStatus.h"

#include <sys/wait.h>

#include <cstring>

namespace cryo::test {

ExitStatus ExitStatus::fromWaitStatus(int status) {
  if (WIFEXITED(status)) return ExitStatus(Kind::Exited, WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return ExitStatus(Kind::Signaled, WTERMSIG(status));
  return ExitStatus(Kind::Unknown, status);
}

std::string ExitStatus::describe() const {
  switch (kind_) {
    case Kind::Exited:
      return "exited with code " + std::to_string(value_);
    case Kind::Signaled:
      return "killed by signal " + std::to_string(value_) + " (" + ::strsignal(value_) + ")";
    case Kind::TimedOut:
      return "did not end in time (killed by the test)";
    case Kind::NotAChild:
      return "not a child of the test process, so its status is unknown";
    case Kind::Unknown:
      break;
  }
  return "unknown wait status " + std::to_string(value_);
}

}  // namespace cryo::test
