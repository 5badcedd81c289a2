// PriorityHold: runs the threads of a frozen task at cryo's real-time priority for the freeze
// (each injected call then runs at once on the task's CPU, whatever else wants it), and puts
// each thread's own scheduling policy back when released (before the task runs again).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>

#include "common/KernelCompat.h"

namespace cryo {

class PriorityHold {
 public:
  // `priority`: the SCHED_FIFO priority (1..99) held threads run at.
  explicit PriorityHold(int priority) : priority_(priority) {}
  PriorityHold(const PriorityHold&) = delete;
  PriorityHold& operator=(const PriorityHold&) = delete;
  ~PriorityHold();  // release()

  // Raises thread `tid` to the hold's priority, recording its own policy first. A thread that
  // already runs at a real-time priority at least as high, or under SCHED_DEADLINE, is left as
  // it is; so is one the kernel will not change.
  void hold(pid_t tid);

  // Puts every raised thread's own policy back; a thread that has gone meanwhile is skipped.
  // Throws, naming the thread, if one that still exists cannot be put back.
  void release();
  // The scheduling attributes thread `tid` had before the hold (nullopt: not raised by it).
  std::optional<cryo_sched_attr> original(pid_t tid) const;
  size_t raised() const { return original_.size(); }

 private:
  int priority_;
  std::map<pid_t, cryo_sched_attr> original_;
};

}  // namespace cryo
