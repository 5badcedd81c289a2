// Kernel UAPI newer than Debian 12's headers (6.1): the one place such definitions live (the
// part C programs need too, PAGEMAP_SCAN and userfaultfd features, is in KernelUapi.h).
#pragma once

#include <sys/ioctl.h>
#include <cstdint>

#include "common/KernelUapi.h"  // PAGEMAP_SCAN, userfaultfd features (C as well as C++)

// ---- ptrace ------------------------------------------------------------------------------
// PTRACE_GET_RSEQ_CONFIGURATION itself comes from <sys/ptrace.h> (glibc 2.36 names it).
struct cryo_ptrace_rseq_configuration {
  __u64 rseq_abi_pointer;
  __u32 rseq_abi_size;
  __u32 signature;
  __u32 flags;
  __u32 pad;
};

// ---- syscall numbers that glibc 2.36 may not name ------------------------------------------
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef __NR_rseq
#define __NR_rseq 334
#endif

// ---- clone3 argument block (set_tid needs the 5.5 layout) ----------------------------------
struct cryo_clone_args {
  __u64 flags;
  __u64 pidfd;
  __u64 child_tid;
  __u64 parent_tid;
  __u64 exit_signal;
  __u64 stack;
  __u64 stack_size;
  __u64 tls;
  __u64 set_tid;
  __u64 set_tid_size;
  __u64 cgroup;
};

// ---- kernel-internal errno values visible to a tracer at a syscall stop --------------------
namespace cryo::kernel {
inline constexpr long kERESTARTSYS = 512;
inline constexpr long kERESTARTNOINTR = 513;
inline constexpr long kERESTARTNOHAND = 514;
inline constexpr long kERESTART_RESTARTBLOCK = 516;
}  // namespace cryo::kernel

// ---- sched_getattr/sched_setattr argument (linux/sched/types.h clashes with <sched.h>) -----
struct cryo_sched_attr {
  __u32 size;
  __u32 sched_policy;
  __u64 sched_flags;
  __s32 sched_nice;
  __u32 sched_priority;
  __u64 sched_runtime;
  __u64 sched_deadline;
  __u64 sched_period;
  __u32 sched_util_min;
  __u32 sched_util_max;
};

// ---- timerfd: set the expiration count (CONFIG_CHECKPOINT_RESTORE; glibc does not name it) --
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, __u64)
#endif

// ---- prctl: timer_create takes the ID to give the new timer (Linux 6.15) --------------------
#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#define PR_TIMER_CREATE_RESTORE_IDS_GET 2
#endif
