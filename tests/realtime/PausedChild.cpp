// PausedChild: fork, pause, SIGKILL and reap.
#include "PausedChild.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace cryo {

PausedChild::PausedChild() : pid_(::fork()) {
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    for (;;) ::pause();
  }
}

void PausedChild::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace cryo
