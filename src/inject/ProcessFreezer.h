// ProcessFreezer: holds every thread of one process frozen under ptrace, none running while
// another is inspected; lets them all run on (or dies with them held) when released.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <vector>

#include "inject/Tracee.h"

namespace cryo {

class ProcessFreezer {
 public:
  // Seizes and freezes all threads of `pid`; throws (leaving the process running) on failure.
  // `slowToStop`: see Tracee::freeze.
  explicit ProcessFreezer(pid_t pid, const Tracee::SlowToStop& slowToStop = {});
  ProcessFreezer(const ProcessFreezer&) = delete;
  ProcessFreezer& operator=(const ProcessFreezer&) = delete;
  // Detaches from every thread still held: the process runs on.
  ~ProcessFreezer();

  pid_t pid() const { return pid_; }
  Tracee& leader() { return *threads_.front(); }
  std::vector<std::unique_ptr<Tracee>>& threads() { return threads_; }
  // Lets every thread run on from exactly where it was.
  void thaw();
  // Kills the process (SIGKILL) while it is still frozen and waits for its threads to go.
  void kill();
  // The signal that stopped the process by job control when it was frozen (its threads were
  // found in a group stop; they go back to it when let go), or 0.
  int stopSignal() const { return stopSignal_; }
  // When the first thread was seized (the task's freeze begins), and when all were held.
  std::chrono::steady_clock::time_point frozenAt() const { return frozenAt_; }
  std::chrono::steady_clock::time_point heldAt() const { return heldAt_; }

 private:
  pid_t pid_;
  std::vector<std::unique_ptr<Tracee>> threads_;
  int stopSignal_ = 0;
  std::chrono::steady_clock::time_point frozenAt_;
  std::chrono::steady_clock::time_point heldAt_;
};

}  // namespace cryo
