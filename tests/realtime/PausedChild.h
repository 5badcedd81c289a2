// PausedChild: a forked child of the test that does nothing but wait, killed and reaped by
// stop() or at the end of its scope (a thread whose scheduling a test may change and read).
#pragma once

#include <sys/types.h>

namespace cryo {

class PausedChild {
 public:
  PausedChild();  // forks; the child pauses until killed
  ~PausedChild() { stop(); }
  PausedChild(const PausedChild&) = delete;
  PausedChild& operator=(const PausedChild&) = delete;

  pid_t pid() const { return pid_; }
  // SIGKILL and reap (nothing once done).
  void stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace cryo
