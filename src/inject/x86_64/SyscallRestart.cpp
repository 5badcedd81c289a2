// SyscallRestart: turns the registers of a thread stopped inside an interrupted system call
// into registers that re-enter that call when the thread is resumed elsewhere (after restore).
#include "inject/x86_64/SyscallRestart.h"

#include <sys/syscall.h>

#include <cerrno>

#include "common/KernelCompat.h"

namespace cryo {

long SyscallRestart::interruptedSyscall(const Registers& r) {
  if (r.syscallNo() < 0) return -1;
  switch (-r.result()) {
    case kernel::kERESTARTSYS:
    case kernel::kERESTARTNOINTR:
    case kernel::kERESTARTNOHAND:
    case kernel::kERESTART_RESTARTBLOCK:
      return r.syscallNo();
  }
  return -1;
}

Registers SyscallRestart::forImage(const Registers& frozen) {
  Registers r = frozen;
  long nr = interruptedSyscall(frozen);
  if (nr == SYS_restart_syscall) {
    // The kernel was resuming an earlier interrupted call through its restart block, which
    // lives in the kernel and is not part of the image: the call returns EINTR, as it does when
    // a restart block is lost (callers of sleeps, poll and futex waits retry on EINTR).
    r.setResult(-EINTR);
  } else if (nr >= 0) {
    // The call is executed again from the start with its original arguments. For calls the
    // kernel would have resumed through restart_syscall (relative sleeps, poll and futex
    // timeouts) this means waiting the full timeout again: never shorter than asked.
    r.setResult(frozen.syscallNo());
    r.setIp(frozen.ip() - Registers::kSyscallInsnSize);
  }
  r.setSyscallNo(-1);
  return r;
}

}  // namespace cryo
