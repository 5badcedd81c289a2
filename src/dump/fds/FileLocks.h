// FileLocks: the file locks a frozen task holds, read from the "lock:" lines of fdinfo (POSIX
// record locks, OFD locks, flock locks), and the refusal of the locks a restore could not give
// back as they were (leases, mandatory locks, a lock owned by a description shared with a
// process outside the dumped tree).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "cryo.pb.h"

namespace cryo {

class FdTable;
struct OpenFd;

class FileLocks {
 public:
  // The locks fdinfo text `fdinfo` of fd `f` of `pid` shows; throws naming pid, fd, path and
  // the lock line for a lock that is not a POSIX, OFD or flock advisory lock.
  static std::vector<img::FileLock> fromFdInfo(pid_t pid, const OpenFd& f,
                                               const std::string& fdinfo);
  // One lock line ("1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF", without "lock:").
  static img::FileLock parse(pid_t pid, const OpenFd& f, const std::string& line);
  // Throws when an OFD or flock lock of the tree (`tables`: its processes) belongs to an open
  // file description that a process outside the tree also holds: that process keeps the lock
  // when the tree is gone, and a restore could not share the description with it again.
  static void refuseSharedOutside(const std::map<pid_t, FdTable>& tables);
  // Throws when /proc/locks shows a flock lock taken by a process of the tree that no fd of
  // the tree shows, on a file the tree maps: the description holding it is a mapping's (the
  // fd was closed after mmap), which a restore maps again through a new one. `tree`: the
  // dumped processes with their mappings (only shared file mappings are looked at).
  static void refuseHeldByMappings(const std::map<pid_t, FdTable>& tables, const img::Tree& tree);
  // "POSIX WRITE lock on bytes 0-99", "flock LOCK_SH lock": for messages.
  static std::string describe(const img::FileLock& l);
};

}  // namespace cryo
