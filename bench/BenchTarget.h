// BenchTarget: one running bench_target process (or the task restored from it): starts it,
// waits until its memory is written, and checks a restored one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace cryo::bench {

class BenchTarget {
 public:
  // Starts `program` with `mib` MiB and `threads` threads and waits for it to be ready.
  BenchTarget(const std::string& program, int mib, int threads);
  // Kills and reaps the task if it is still there.
  ~BenchTarget();
  BenchTarget(const BenchTarget&) = delete;
  BenchTarget& operator=(const BenchTarget&) = delete;

  pid_t pid() const { return pid_; }
  uint64_t residentBytes() const;  // VmRSS
  // Throws unless the task is alive and not stopped.
  void checkRunning() const;
  // SIGKILL and reap; the pid becomes free.
  void kill();
  // Takes over the task restored with the same pid (a child of ours as subreaper), and checks
  // it: alive, all threads there and runnable, memory holding what the target wrote.
  void adoptRestored(pid_t pid);

 private:
  void checkMemory() const;
  pid_t pid_ = -1;
  int mib_;
  int threads_;
  uint64_t addr_ = 0;
  uint64_t bytes_ = 0;
};

// For the signal handler: the task to kill if the benchmark is interrupted.
pid_t liveTaskForCleanup();

}  // namespace cryo::bench
