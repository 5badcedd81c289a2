// SharedTables: which processes of a dumped tree share what clone() lets processes share
// without being threads: an fd table (CLONE_FILES) or cwd, root and umask (CLONE_FS) are
// recorded, shared from parent to child as a restore recreates them (a clone from the
// parent's shell with the same flag); any other sharing (between siblings, with a process
// outside the tree, of signal handlers or of an address space) is refused by name.
#pragma once

#include <sys/types.h>

#include <map>

#include "cryo.pb.h"

namespace cryo {

class ProcessTree;

class SharedTables {
 public:
  struct Sharing {
    pid_t files = 0;  // the parent whose fd table the process shares, or 0
    pid_t fs = 0;     // the parent whose cwd, root and umask it shares, or 0
  };

  // Finds the sharing among the live members of the frozen tree; throws naming the processes
  // and the table for what no restore could recreate.
  static std::map<pid_t, Sharing> find(ProcessTree& tree);
  // Sets files_shared_with / fs_shared_with of the collected processes.
  static void record(const std::map<pid_t, Sharing>& found, img::Tree& tree);
  // A POSIX lock belongs to an fd table: when several processes share one, the lock shows the
  // process that took it, which must be one of them to take it again (refused otherwise).
  static void checkLocks(const img::Tree& tree);

 private:
  // Whether pids `a` and `b` share the kcmp resource `type`.
  static bool same(pid_t a, pid_t b, int type);
};

}  // namespace cryo
