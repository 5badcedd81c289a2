// Tracee: one thread held with ptrace (PTRACE_SEIZE): its stops, registers and signal state.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/KernelCompat.h"
#include "inject/x86_64/Registers.h"

namespace cryo {

// What waitpid reported for a traced thread.
struct Stop {
  enum Kind { kEvent, kSignal, kSyscall, kGroupStop, kExited } kind = kEvent;
  int signal = 0;  // kSignal: the signal about to be delivered
  int event = 0;   // kEvent: PTRACE_EVENT_* (0 for a PTRACE_INTERRUPT stop)
  int status = 0;  // raw wait status
  std::string describe() const;
};

class Tracee {
 public:
  // Seizes `tid`; throws with the reason (no such thread, already traced, ...).
  Tracee(pid_t tid, unsigned long options);
  // Adopts a thread already auto-attached to us (PTRACE_O_TRACECLONE).
  static Tracee adopt(pid_t tid);
  Tracee(const Tracee&) = delete;
  Tracee& operator=(const Tracee&) = delete;
  Tracee(Tracee&& o) noexcept;
  Tracee& operator=(Tracee&&) = delete;
  // Detaches if still attached (the thread runs on with whatever state it has).
  ~Tracee();

  pid_t tid() const { return tid_; }
  bool attached() const { return attached_; }

  void interrupt();
  // Waits for the next stop of this thread.
  Stop wait();
  // Resumes with a ptrace request (PTRACE_CONT, PTRACE_SYSCALL, ...) delivering `sig`.
  void resume(int request, int sig = 0);
  // Interrupts and waits until the thread sits in a PTRACE_INTERRUPT stop; signals that were
  // being delivered meanwhile are delivered (so none is lost) before the stop is taken.
  // `slowToStop`, if given, is called with the thread's id when it has not stopped within
  // kPromptStop of the interrupt: it is then most likely waiting for a CPU that another thread
  // holds, and the caller may move it to one where it stops at once.
  using SlowToStop = std::function<void(pid_t tid)>;
  static constexpr std::chrono::microseconds kPromptStop{50};
  // A thread found in a job-control stop (group stop) is held in its group-stop trap, and
  // groupStopSignal() says by which signal.
  void freeze(const SlowToStop& slowToStop = {});
  // The stop signal of the last group-stop trap freeze() held the thread in (0: none).
  int groupStopSignal() const { return groupStopSignal_; }
  void detach(int sig = 0);
  // Whether the thread has a stop (or its exit) to report, looking until `limit` has passed.
  bool reportsWithin(std::chrono::microseconds limit) const;
  void markGone() { attached_ = false; }

  Registers regs() const;
  void setRegs(const Registers& r);
  std::vector<uint8_t> regset(int type, size_t maxSize) const;  // e.g. NT_X86_XSTATE
  void setRegset(int type, const std::vector<uint8_t>& data);
  uint64_t signalMask() const;
  void setSignalMask(uint64_t mask);
  std::vector<siginfo_t> pendingSignals(bool shared) const;
  cryo_ptrace_rseq_configuration rseq() const;
  unsigned long eventMessage() const;

  std::string who() const;  // "tid 42" for messages

  // Exit statuses that wait() consumed for tasks that were also cryo's children (a tracer that
  // is the parent gets a child's exit only once): the caller that waits for the child asks here.
  static bool takeReapedStatus(pid_t pid, int& status);

 private:
  struct Adopt {};
  Tracee(pid_t tid, Adopt) : tid_(tid), attached_(true) {}
  bool isLeader() const;
  bool threadOfSameGroup(pid_t other) const;
  bool stopWaiting() const;
  pid_t tid_ = -1;
  bool attached_ = false;
  int groupStopSignal_ = 0;
  mutable pid_t tgid_ = 0;
};

}  // namespace cryo
