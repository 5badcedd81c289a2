// ThreadPlacement: the CPUs, scheduling policy and nice value of one thread, taken from it and
// given to another. A new thread inherits its creator's: one started by the freeze's helper
// would run at the idle policy on the task's CPUs, that is hardly at all beside a busy task.
#pragma once

#include <sched.h>

namespace cryo {

class ThreadPlacement {
 public:
  // The calling thread's. A real-time policy (a freeze's window, a CPU visit) is taken as the
  // ordinary one: what is placed so does background work.
  static ThreadPlacement ofCallingThread();
  // Gives them to the calling thread. False (errno set) if the kernel refused a part; the
  // parts it took stay.
  bool applyToCallingThread() const;

  int policy() const { return policy_; }
  int nice() const { return nice_; }

 private:
  cpu_set_t cpus_{};
  bool haveCpus_ = false;
  int policy_ = SCHED_OTHER;
  int nice_ = 0;
};

}  // namespace cryo
