// ProcessBuilder: creates the empty shell of a process to restore: a child of cryo with the
// saved PID (clone3 set_tid), held under ptrace (dies with cryo), stripped of cryo's memory and
// fds, with a code page and scratch area from which the restorers work.
#pragma once

#include <sys/types.h>

#include <memory>

#include "restore/RestoreContext.h"

namespace cryo {

// Kills and reaps the process being built unless disarmed (a failed restore leaves nothing).
class ShellGuard {
 public:
  ShellGuard() = default;
  ShellGuard(const ShellGuard&) = delete;
  ShellGuard& operator=(const ShellGuard&) = delete;
  ~ShellGuard();
  void arm(pid_t pid) { pid_ = pid; }
  void disarm() { pid_ = 0; }

 private:
  pid_t pid_ = 0;
};

class ProcessBuilder {
 public:
  // Creates the shell for ctx.process() and installs its leader, syscall site and scratch
  // area in ctx. Throws (with a clear message if the PID is taken) on failure.
  static void createShell(RestoreContext& ctx, ShellGuard& guard);
  // Removes cryo's code page and scratch area (run last, before the final registers are set).
  static void removeScaffolding(RestoreContext& ctx);
  // Chooses an address range of `size` bytes free in both lists of [start,end) ranges.
  static uint64_t findHole(const std::vector<std::pair<uint64_t, uint64_t>>& used, uint64_t size);

  static constexpr uint64_t kScratchSize = 256 * 1024;
};

}  // namespace cryo
