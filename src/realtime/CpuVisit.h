// CpuVisit: runs the calling thread on a task's CPUs while it changes the task's page tables
// (a pre-copy round's re-protecting scan), then back on its own CPUs.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <chrono>

namespace cryo {

// Each page table a PAGEMAP_SCAN re-protects is flushed from the TLB of every CPU running the
// task: from another CPU that is an interrupt of the running task per 2 MiB block changed, and
// the scan then takes about seven times as long as over the stopped task
// (bench/realtime/scan_running.c). Made from the CPU the task runs on, the flushes are local,
// and the task waits only for the scan itself.
class CpuVisit {
 public:
  // Moves the calling thread onto the CPUs `pid`'s threads may run on, if none of them is
  // one of the caller's own (cryo was given CPUs of its own) and no thread of the task runs at
  // a real-time policy (it would keep the visitor from running). Otherwise nothing moves.
  // While there, a thread at an ordinary policy runs at SCHED_FIFO 1: its arrival then
  // preempts the task at once, where at the task's own policy it waits for the task's time
  // slice to end (1.7 ms median, 3.3 ms p90 here; 0.15 ms at SCHED_FIFO: scan_running). A
  // thread already at a real-time policy keeps it. Without the right to raise its policy
  // (no CAP_SYS_NICE) it visits at its own.
  explicit CpuVisit(pid_t pid);
  CpuVisit(const CpuVisit&) = delete;
  CpuVisit& operator=(const CpuVisit&) = delete;
  // Back on the CPUs the thread had, then at the policy it had.
  ~CpuVisit();

  bool moved() const { return moved_; }
  // Whether the visit raised the thread to SCHED_FIFO.
  bool raised() const { return raised_; }
  // How long the move took: the thread runs on the task's CPUs when the kernel returns from
  // the move, so this includes waiting for the task to give way.
  std::chrono::microseconds arrival() const { return arrival_; }
  // CRYO_SCAN_CPU=own keeps the rounds' scans on cryo's CPUs (for measuring what the visit
  // saves); anything else, or unset: visit.
  static bool enabled();

 private:
  void raise(pid_t pid);
  void lower();
  cpu_set_t own_{};
  bool moved_ = false;
  bool raised_ = false;
  int policy_ = SCHED_OTHER;  // the thread's own, given back after a raised visit
  sched_param param_{};
  std::chrono::microseconds arrival_{0};
};

}  // namespace cryo
