// PidFd: a pidfd for one process (pidfd_open), used to take copies of its file descriptors.
#pragma once

#include <sys/types.h>

#include "common/UniqueFd.h"

namespace cryo {

class PidFd {
 public:
  explicit PidFd(pid_t pid) : pid_(pid) {}
  // A duplicate, in cryo, of the process's fd `fd` (pidfd_getfd): the same open file.
  UniqueFd take(int fd);

 private:
  pid_t pid_;
  UniqueFd fd_;
};

}  // namespace cryo
