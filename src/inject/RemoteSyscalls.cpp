// RemoteSyscalls: makes a stopped thread execute system calls on cryo's behalf (RAII: the
// thread's registers and signal mask are put back when the object goes away).
#include "inject/RemoteSyscalls.h"

#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/ProcFs.h"
#include "inject/RemoteMemory.h"
#include "inject/x86_64/SyscallRestart.h"

namespace cryo {

namespace {
constexpr uint64_t kAllSignals = ~0ULL;
}

RemoteSyscalls::RemoteSyscalls(Tracee& thread, uint64_t site) : thread_(thread), site_(site) {
  if (site_ == 0) fail("{}: no syscall instruction available for injection", thread.who());
  original_ = thread_.regs();
  settle();
}

RemoteSyscalls::RemoteSyscalls(Tracee& thread, const InjectionGuard& guard)
    : thread_(thread), site_(guard.code), guard_(guard) {
  original_ = thread_.regs();
  writeGuardSlot(thread_.signalMask());
  settle();
  writeGuardSlot(sigmask_);
}

void RemoteSyscalls::writeGuardSlot(uint64_t mask) {
  Registers resume = SyscallRestart::forImage(original_);
  std::vector<uint8_t> slot = Registers::guardSlot(resume, mask);
  guard_.memory->write(guard_.slot, slot.data(), slot.size());
}

void RemoteSyscalls::enableGuard(const InjectionGuard& guard) {
  guard_ = guard;
  site_ = guard.code;
  writeGuardSlot(sigmask_);
}

void RemoteSyscalls::disableGuard(uint64_t site) {
  guard_ = InjectionGuard{};
  site_ = site;
}

void RemoteSyscalls::settle() {
  // Settle: the first injected call runs with the thread's own signal mask so that a mask a
  // syscall such as sigsuspend had swapped in is put back by the kernel. A signal that was due
  // is delivered on the thread's original context and the thread is frozen again.
  for (int attempt = 0;; ++attempt) {
    long r = 0;
    if (run(SYS_getpid, {}, r) == Outcome::kDone) break;
    ++settleSignals_;
    if (attempt > 100) fail("{}: cannot settle the thread (signal storm?)", thread_.who());
  }
  sigmask_ = thread_.signalMask();
  thread_.setSignalMask(kAllSignals);
  settled_ = true;
}

RemoteSyscalls::~RemoteSyscalls() {
  if (released_ || !thread_.attached()) return;
  try {
    thread_.setRegs(original_);
    thread_.setSignalMask(sigmask_);
  } catch (const std::exception& e) {
    spdlog::error("{}: could not put the thread back as it was: {}", thread_.who(), e.what());
  }
}

RemoteSyscalls::Outcome RemoteSyscalls::run(long nr, const std::array<uint64_t, 6>& args,
                                             long& result) {
  Registers r = original_;
  r.prepareSyscall(site_, nr, args);
  if (guard_.slot) r.setGuardSlotPointer(guard_.slot);
  spdlog::trace("{}: syscall {}({:#x}, {:#x}, {:#x}, {:#x}) at {:#x}", thread_.who(), nr, args[0],
                args[1], args[2], args[3], site_);
  if (stack_) r.setSp(stack_);
  thread_.setRegs(r);
  thread_.resume(PTRACE_SYSCALL);
  bool entered = false;
  for (;;) {
    Stop s = thread_.wait();
    switch (s.kind) {
      case Stop::kSyscall:
        if (!entered) {
          entered = true;
          thread_.resume(PTRACE_SYSCALL);
          continue;
        }
        result = thread_.regs().result();
        return Outcome::kDone;
      case Stop::kEvent:
        if (s.event == PTRACE_EVENT_CLONE || s.event == PTRACE_EVENT_FORK ||
            s.event == PTRACE_EVENT_VFORK)
          newTasks_.push_back(static_cast<pid_t>(thread_.eventMessage()));
        thread_.resume(PTRACE_SYSCALL);
        continue;
      case Stop::kSignal:
        if (!entered && !settled_) {
          // Deliver the signal exactly as it would have been, on the original context.
          thread_.setRegs(original_);
          thread_.resume(PTRACE_CONT, s.signal);
          thread_.freeze();
          original_ = thread_.regs();
          if (guard_.slot) writeGuardSlot(thread_.signalMask());
          return Outcome::kSignalFirst;
        }
        fail("{}: unexpected {} during injected syscall {} (entered: {}, at {})", thread_.who(),
             s.describe(), nr, entered, thread_.regs().describe());
      case Stop::kGroupStop:
        fail("{}: stopped by signal {} during injected syscall {}", thread_.who(), s.signal, nr);
      case Stop::kExited:
        fail("{}: {} during injected syscall {}", thread_.who(), s.describe(), nr);
    }
  }
}

long RemoteSyscalls::call(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5) {
  long result = 0;
  if (run(nr, {a0, a1, a2, a3, a4, a5}, result) != Outcome::kDone)
    fail("{}: injected syscall {} interrupted by a signal", thread_.who(), nr);
  return result;
}

uint64_t RemoteSyscalls::check(const std::string& what, long nr, uint64_t a0, uint64_t a1,
                               uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5) {
  long r = call(nr, a0, a1, a2, a3, a4, a5);
  if (r < 0 && r > -4096)
    throw SysError(fmt::format("{}: {} failed", thread_.who(), what), static_cast<int>(-r));
  return static_cast<uint64_t>(r);
}

void RemoteSyscalls::callBatch(std::vector<BatchCall>& calls, uint64_t table) {
  if (calls.empty()) return;
  if (!guard_.slot || !guard_.memory) {
    for (auto& c : calls)
      c.result = call(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
    return;
  }
  // Control block (done flag, a 2 s timeout for the sleep that ends the batch), then entries.
  const size_t n = calls.size();
  std::vector<uint64_t> words(Registers::kBatchControlSize / 8 + n * Registers::kBatchEntrySize / 8);
  words[0] = 0;
  words[1] = 2;  // tv_sec
  words[2] = 0;  // tv_usec
  for (size_t i = 0; i < n; ++i) {
    uint64_t* e = &words[Registers::kBatchControlSize / 8 + i * 8];
    e[0] = static_cast<uint64_t>(calls[i].nr);
    for (int a = 0; a < 6; ++a) e[1 + a] = calls[i].args[static_cast<size_t>(a)];
    e[7] = static_cast<uint64_t>(-ENOSYS);
  }
  guard_.memory->write(table, words.data(), words.size() * 8);
  Registers r = original_;
  r.prepareBatch(guard_.code + Registers::guardBatchOffset(), table + Registers::kBatchControlSize,
                 n, table);
  r.setGuardSlotPointer(guard_.slot);
  if (stack_) r.setSp(stack_);
  thread_.setRegs(r);
  thread_.resume(PTRACE_CONT);
  try {
    FaultPoint::hit("inject-batch");
    // The thread runs the calls natively; every signal is blocked. Poll the done flag.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (uint64_t polls = 0;; ++polls) {
      if (guard_.memory->readValue<uint64_t>(table) == 1) break;
      if (std::chrono::steady_clock::now() > deadline)
        fail("{}: a batch of {} injected syscalls did not finish within 1 s", thread_.who(), n);
      if (polls > 64) std::this_thread::yield();
    }
  } catch (...) {
    // Held again before anything else happens to it (a running tracee cannot be detached).
    try {
      thread_.freeze();
    } catch (const std::exception& e) {
      spdlog::error("{}: could not stop the thread after a failed batch: {}", thread_.who(), e.what());
    }
    throw;
  }
  thread_.freeze();  // interrupts the closing sleep
  guard_.memory->read(table, words.data(), words.size() * 8);
  for (size_t i = 0; i < n; ++i)
    calls[i].result = static_cast<long>(words[Registers::kBatchControlSize / 8 + i * 8 + 7]);
}

std::vector<pid_t> RemoteSyscalls::takeNewTasks() {
  std::vector<pid_t> out;
  out.swap(newTasks_);
  return out;
}

uint64_t RemoteSyscalls::findSyscallSiteInVdso(pid_t pid) {
  return findSyscallSiteInVdso(pid, ProcFs::maps(pid, false));
}

uint64_t RemoteSyscalls::findSyscallSiteInVdso(pid_t pid, const std::vector<MapsEntry>& maps) {
  RemoteMemory mem(pid);
  return findSyscallSiteInVdso(mem, maps);
}

uint64_t RemoteSyscalls::findSyscallSiteInVdso(RemoteMemory& mem, const std::vector<MapsEntry>& maps) {
  static std::atomic<uint64_t> lastOffset{0};  // (0: none found yet)
  const auto& insn = Registers::kSyscallInsn;
  for (const MapsEntry& m : maps) {
    if (m.path != "[vdso]" || m.size() < insn.size()) continue;
    uint64_t off = lastOffset.load();
    if (off != 0 && off <= m.size() - insn.size()) {
      std::vector<uint8_t> at = mem.readBytes(m.start + off, insn.size());
      if (std::equal(insn.begin(), insn.end(), at.begin())) return m.start + off;
    }
    std::vector<uint8_t> code = mem.readBytes(m.start, m.size());
    for (size_t i = 0; i + insn.size() <= code.size(); ++i)
      if (std::equal(insn.begin(), insn.end(), code.begin() + static_cast<long>(i))) {
        if (i != 0) lastOffset.store(i);
        return m.start + i;
      }
  }
  return 0;
}

}  // namespace cryo
