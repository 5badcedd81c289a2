// SyscallRestart: turns the registers of a thread stopped inside an interrupted system call
// into registers that re-enter that call when the thread is resumed elsewhere (after restore).
#pragma once

#include "inject/x86_64/Registers.h"

namespace cryo {

class SyscallRestart {
 public:
  // Returns the registers to store in an image: a thread blocked in a restartable call
  // resumes by executing the call again; orig_rax is cleared so no further restart applies.
  static Registers forImage(const Registers& frozen);
  // The syscall the thread was blocked in when frozen, or -1.
  static long interruptedSyscall(const Registers& frozen);
};

}  // namespace cryo
