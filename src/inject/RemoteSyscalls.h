// RemoteSyscalls: makes a stopped thread execute system calls on cryo's behalf (RAII: the
// thread's registers and signal mask are put back when the object goes away).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/ProcFs.h"
#include "inject/Tracee.h"

namespace cryo {

class RemoteMemory;

// Where a crash-safe injection keeps its recovery state inside the task (see GuardCode.S).
struct InjectionGuard {
  uint64_t code = 0;  // address of the guard code (its first instruction is the syscall)
  uint64_t slot = 0;  // this thread's slot (Registers::kGuardSlotSize bytes)
  RemoteMemory* memory = nullptr;
};

class RemoteSyscalls {
 public:
  // `site` is the address of a syscall instruction mapped executable in the thread's process.
  // Construction "settles" the thread (one harmless injected call, delivering any signal that
  // was due first), records its registers and signal mask, then blocks all signals.
  RemoteSyscalls(Tracee& thread, uint64_t site);
  // Crash-safe: injected calls run at the guard code; if cryo dies at any point the thread
  // puts itself back and runs on.
  RemoteSyscalls(Tracee& thread, const InjectionGuard& guard);
  RemoteSyscalls(const RemoteSyscalls&) = delete;
  RemoteSyscalls& operator=(const RemoteSyscalls&) = delete;
  ~RemoteSyscalls();

  // Executes syscall `nr`; returns the raw result (a negative errno on failure).
  long call(long nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
            uint64_t a4 = 0, uint64_t a5 = 0);
  // Like call(), but throws an error naming the thread and `what` when the syscall fails.
  uint64_t check(const std::string& what, long nr, uint64_t a0 = 0, uint64_t a1 = 0,
                 uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0);

  // Several syscalls in one go, with a single ptrace stop (crash-safe injection only; the
  // calls run one after the other, each call's result in `result`). `table` is room in the
  // task for Registers::kBatchControlSize + calls.size() * Registers::kBatchEntrySize bytes.
  struct BatchCall {
    long nr = 0;
    std::array<uint64_t, 6> args{};
    long result = 0;
  };
  void callBatch(std::vector<BatchCall>& calls, uint64_t table);

  const Registers& originalRegs() const { return original_; }
  // Whether settling delivered a signal (its frame was written into the thread's memory).
  bool settleDeliveredSignal() const { return settleSignals_ != 0; }
  uint64_t originalSigmask() const { return sigmask_; }
  Tracee& thread() { return thread_; }

  void setSite(uint64_t site) { site_ = site; }
  // Switches an existing injector to crash-safe mode.
  void enableGuard(const InjectionGuard& guard);
  // Back to plain injection at `site` (before the guard code goes away).
  void disableGuard(uint64_t site);
  uint64_t site() const { return site_; }
  // Stack pointer used while injecting (0: keep the thread's own).
  void setStack(uint64_t sp) { stack_ = sp; }
  // Threads or processes created by the calls so far (PTRACE_O_TRACECLONE/FORK events).
  std::vector<pid_t> takeNewTasks();
  // Keep the thread's current state on destruction (the caller sets the final state).
  void release() { released_ = true; }

  // Finds a syscall instruction inside the [vdso] of `pid` (0 if there is none).
  static uint64_t findSyscallSiteInVdso(pid_t pid);
  // The same, given the process's mappings (saves reading them again).
  static uint64_t findSyscallSiteInVdso(pid_t pid, const std::vector<MapsEntry>& maps);
  // The same, through `mem` (an open /proc/PID/mem). The offset found last is tried first:
  // every process of a kind has the same [vdso] image, so the search is made about once.
  static uint64_t findSyscallSiteInVdso(RemoteMemory& mem, const std::vector<MapsEntry>& maps);

 private:
  enum class Outcome { kDone, kSignalFirst };
  Outcome run(long nr, const std::array<uint64_t, 6>& args, long& result);
  void settle();
  void writeGuardSlot(uint64_t mask);

  Tracee& thread_;
  uint64_t site_;
  uint64_t stack_ = 0;
  Registers original_;
  uint64_t sigmask_ = 0;
  bool settled_ = false;
  int settleSignals_ = 0;
  bool released_ = false;
  InjectionGuard guard_;
  std::vector<pid_t> newTasks_;
};

}  // namespace cryo
