// ProcessTree: the processes one dump covers, the root and all its descendants, frozen
// together: each process is frozen before its children are listed, so none can fork unseen.
// Children that exited and wait to be reaped (zombies) are members too, recorded, not frozen.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "common/ProcFs.h"
#include "inject/ProcessFreezer.h"

namespace cryo {

class ProcessTree {
 public:
  struct Member {
    pid_t pid = 0;
    ProcStat stat;                            // read once it was frozen (or found a zombie)
    std::unique_ptr<ProcessFreezer> freezer;  // null for a zombie
    bool zombie() const { return !freezer; }
  };

  // The descendants of a running root as one listing saw them, and the system's count of
  // forks (processes and threads created since boot) read just before it was made.
  struct Listing {
    std::vector<pid_t> pids;
    uint64_t forksBefore = 0;
  };

  // Freezes `root` and then its descendants, parents first (`expected`: what a listing made
  // just before found, which spares listings while frozen; if nothing anywhere forked since
  // that listing began, none at all is made). Throws if one cannot be frozen; what was frozen
  // then runs on unharmed. `rootHeld` is called once every thread of the root is held, before
  // the rest of the tree is frozen and checked: work on the root may start there.
  // `slowToStop`: see Tracee::freeze.
  ProcessTree(pid_t root, const Listing& expected, const std::function<void()>& rootHeld = {},
              const Tracee::SlowToStop& slowToStop = {});
  ProcessTree(const ProcessTree&) = delete;
  ProcessTree& operator=(const ProcessTree&) = delete;

  // Parents before children; members()[0] is the root.
  std::vector<Member>& members() { return members_; }
  std::vector<pid_t> livePids() const;
  size_t liveCount() const;
  // When the root's first thread was seized: the tree's freeze begins.
  std::chrono::steady_clock::time_point frozenAt() const { return frozenAt_; }
  // Lets every process run on.
  void thaw();
  // Kills every process while still frozen.
  void kill();

  // The descendants of a running `root` as one listing sees them (no freeze): their smaps can
  // be read before the freeze.
  static std::vector<pid_t> descendants(pid_t root);
  static Listing list(pid_t root);

 private:
  void add(pid_t pid);
  Tracee::SlowToStop slowToStop_;
  std::vector<Member> members_;
  std::chrono::steady_clock::time_point frozenAt_;
};

}  // namespace cryo
