// FdTable: every fd of a frozen task read from /proc, grouped into the open file descriptions
// they share (kcmp), with which pipe inodes the task holds read and write ends of, and the
// file locks fdinfo shows on each.
#pragma once

#include <sys/types.h>

#include <map>
#include <vector>

#include "dump/fds/OpenFd.h"

namespace cryo {

class FdTable {
 public:
  // Reads /proc/PID/fd and /proc/PID/fdinfo of a frozen task.
  static FdTable read(pid_t pid);

  pid_t pid() const { return pid_; }
  // In fd order; every fd carries its description id (1, 2, ... in order of first use).
  const std::vector<OpenFd>& fds() const { return fds_; }
  // The fd with number `fd`, or nullptr if the task has no such fd.
  const OpenFd* find(int fd) const;
  // Whether the task holds a read end / a write end of the pipe with inode `ino`.
  bool hasPipeReader(uint64_t ino) const { return readers_.count(ino) != 0; }
  bool hasPipeWriter(uint64_t ino) const { return writers_.count(ino) != 0; }

 private:
  pid_t pid_ = 0;
  std::vector<OpenFd> fds_;
  std::map<uint64_t, int> readers_, writers_;
};

}  // namespace cryo
