// PidFd: a pidfd for one process (pidfd_open), used to take copies of its file descriptors.
#include "common/PidFd.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "common/Error.h"
#include "common/KernelCompat.h"

namespace cryo {

UniqueFd PidFd::take(int fd) {
  if (!fd_) {
    fd_.reset(static_cast<int>(::syscall(__NR_pidfd_open, pid_, 0)));
    if (!fd_) failErrno("pid {}: pidfd_open failed", pid_);
  }
  UniqueFd out(static_cast<int>(::syscall(__NR_pidfd_getfd, fd_.get(), fd, 0)));
  if (!out) failErrno("pid {}: cannot take a copy of fd {} (pidfd_getfd)", pid_, fd);
  return out;
}

}  // namespace cryo
