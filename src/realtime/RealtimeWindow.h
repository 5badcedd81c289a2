// RealtimeWindow: runs the calling thread at a real-time priority (SCHED_FIFO) for as long as
// the object lives, and puts its earlier policy back; threads it creates meanwhile start at
// the ordinary policy (SCHED_RESET_ON_FORK).
#pragma once

#include <sched.h>
#include <sys/types.h>

namespace cryo {

class RealtimeWindow {
 public:
  // `priority` 0: nothing changes. 1..99: SCHED_FIFO at that priority; throws if the kernel
  // refuses it (no CAP_SYS_NICE and no RLIMIT_RTPRIO allowance).
  explicit RealtimeWindow(int priority);
  RealtimeWindow(const RealtimeWindow&) = delete;
  RealtimeWindow& operator=(const RealtimeWindow&) = delete;
  ~RealtimeWindow();

  // Whether the calling thread may be raised to `priority` (checked once, before any task is
  // touched); throws with the reason if not.
  static void check(int priority);

  // The priority to freeze task `pid` with: `priority`, or 0 when cryo may run on one of the
  // task's CPUs (cryo waits for the task's injected calls by polling: at real-time priority
  // on a shared CPU it would keep the task from running them). Warns once when it drops it.
  static int forTask(pid_t pid, int priority);

  // The calling thread's SCHED_FIFO priority as the kernel has it (0: another policy).
  static int current();

 private:
  bool raised_ = false;
  int policy_ = SCHED_OTHER;
  sched_param param_{};
};

}  // namespace cryo
