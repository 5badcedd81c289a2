// CpuHold: moves the threads of a frozen task onto cryo's own CPUs for the freeze, and puts
// each thread's own CPU list back when released (before the task runs again).
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace cryo {

class CpuHold {
 public:
  // Moves every thread of `tids` onto `cpus`, recording its own CPU list first. A thread the
  // kernel will not move (a cpuset that excludes those CPUs) stays where it is.
  CpuHold(const std::vector<pid_t>& tids, const cpu_set_t& cpus);
  CpuHold(const CpuHold&) = delete;
  CpuHold& operator=(const CpuHold&) = delete;
  CpuHold(CpuHold&& o) noexcept;  // the moved-from hold holds nothing
  CpuHold& operator=(CpuHold&&) = delete;
  ~CpuHold();  // release()

  // Moves thread `tid` onto the hold's CPUs too (nothing if it is held already).
  void hold(pid_t tid);
  // Holds thread `tid`, which one of `creators` may have made (a fork or clone inside a thread
  // moved here on its way to stop passes the hold's CPUs on): a thread born since
  // `bornSinceTicks` (clock ticks since boot, as /proc shows start times) that shows exactly
  // the hold's CPUs is recorded with the own CPU list of the first creator held with another
  // list, so that release() gives it what it would have inherited.
  void holdBorn(pid_t tid, const std::vector<pid_t>& creators, uint64_t bornSinceTicks);
  // Clock ticks since boot now (to compare with the start times of threads).
  static uint64_t ticksNow();

  // Puts every moved thread's own CPU list back; a thread that has gone meanwhile is skipped.
  // Throws, naming the thread, if one that still exists cannot be put back.
  void release();
  // The CPU list thread `tid` had before the hold (nullopt: not moved by it).
  std::optional<cpu_set_t> original(pid_t tid) const;
  size_t moved() const { return original_.size(); }

  // The CPUs a freeze of task `pid` can run its threads on: cryo's own, when none of them is
  // also one of the task's (nullopt otherwise: moving the task there would gain nothing).
  static std::optional<cpu_set_t> disjointCpus(pid_t pid);

 private:
  cpu_set_t cpus_;
  std::map<pid_t, cpu_set_t> original_;
};

}  // namespace cryo
