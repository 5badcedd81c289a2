// KernelSigaction: the kernel's layout of struct sigaction for rt_sigaction (not glibc's).
#pragma once

#include <cstdint>

namespace cryo {

struct KernelSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};

}  // namespace cryo
