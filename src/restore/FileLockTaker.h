// FileLockTaker: takes again, in a process being restored, the file locks its descriptions
// held (FileDescription.locks): its own POSIX record locks through the fd they were taken
// through, and each OFD and flock lock of a description once for the whole tree, by the
// process whose pid the lock showed (a flock lock whose taker has exited: by a short-lived
// helper given that pid).
#pragma once

#include <sys/types.h>

#include "cryo.pb.h"

namespace cryo {

class FdInstaller;
class RestoreContext;

class FileLockTaker {
 public:
  // Runs once every fd of the process is installed and nothing will close one of its fds
  // again (a close drops the process's POSIX locks on that file).
  static void takeAll(FdInstaller& inst, const img::Process& in);

 private:
  // Who takes an OFD or flock lock of description `d` of `in`: the pid of a process of the
  // tree that has the description, or -1 for a helper with the lock's own pid, or 0: not
  // this process (another takes it).
  static pid_t takerOf(const img::Tree& tree, const img::Process& in,
                       const img::FileDescription& d, const img::FileLock& l);
  static void takeHere(FdInstaller& inst, const img::FileDescription& d, int fd,
                       const img::FileLock& l);
  // flock() by a child of cryo created with the lock's pid, through a copy of the description;
  // false if that pid is in use.
  static bool takeByHelper(FdInstaller& inst, const img::FileDescription& d, int fd,
                           const img::FileLock& l);
  [[noreturn]] static void conflict(FdInstaller& inst, const img::FileDescription& d, int fd,
                                    const img::FileLock& l, int err);
};

}  // namespace cryo
