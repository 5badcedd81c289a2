// Tracee: one thread held with ptrace (PTRACE_SEIZE): its stops, registers and signal state.
#include "inject/Tracee.h"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <map>
#include <mutex>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/ProcFs.h"

#include <sched.h>
#include <unistd.h>

namespace cryo {

namespace {
std::mutex& reapedMutex() {
  static std::mutex m;
  return m;
}
std::map<pid_t, int>& reaped() {
  static std::map<pid_t, int> m;
  return m;
}
}  // namespace

bool Tracee::takeReapedStatus(pid_t pid, int& status) {
  std::lock_guard<std::mutex> l(reapedMutex());
  auto it = reaped().find(pid);
  if (it == reaped().end()) return false;
  status = it->second;
  reaped().erase(it);
  return true;
}

std::string Stop::describe() const {
  switch (kind) {
    case kEvent: return fmt::format("ptrace event {} stop", event);
    case kSignal: return fmt::format("signal {} ({}) delivery stop", signal, strsignal(signal));
    case kSyscall: return "syscall stop";
    case kGroupStop: return fmt::format("group stop by signal {}", signal);
    case kExited:
      if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
      return fmt::format("exited with status {}", WEXITSTATUS(status));
  }
  return "unknown stop";
}

Tracee::Tracee(pid_t tid, unsigned long options) : tid_(tid) {
  if (::ptrace(PTRACE_SEIZE, tid, nullptr, options) != 0) {
    int e = errno;
    if (e == EPERM)
      throw SysError(fmt::format("cannot seize tid {} (already traced, or not permitted)", tid),
                     e);
    throw SysError(fmt::format("cannot seize tid {}", tid), e);
  }
  attached_ = true;
}

Tracee Tracee::adopt(pid_t tid) { return Tracee(tid, Adopt{}); }

Tracee::Tracee(Tracee&& o) noexcept
    : tid_(o.tid_), attached_(o.attached_), groupStopSignal_(o.groupStopSignal_) {
  o.attached_ = false;
}

Tracee::~Tracee() {
  if (!attached_) return;
  try {
    detach();
  } catch (const std::exception& e) {
    spdlog::warn("{}: detach failed: {}", who(), e.what());
  }
}

bool Tracee::isLeader() const {
  if (tgid_ == 0) {
    auto st = ProcFs::tryReadFile(ProcFs::path(tid_, "status"));
    if (st) {
      auto pos = st->find("\nTgid:");
      if (pos != std::string::npos) tgid_ = static_cast<pid_t>(std::strtol(st->c_str() + pos + 6, nullptr, 10));
    }
    if (tgid_ == 0) tgid_ = -1;
  }
  return tgid_ == tid_;
}

bool Tracee::threadOfSameGroup(pid_t other) const {
  return ::access(ProcFs::path(tid_, "task/" + std::to_string(other)).c_str(), F_OK) == 0 ||
         !ProcFs::exists(other);
}

std::string Tracee::who() const { return fmt::format("tid {}", tid_); }

void Tracee::interrupt() {
  if (::ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0)
    failErrno("{}: PTRACE_INTERRUPT failed", who());
}

Stop Tracee::wait() {
  int status = 0;
  if (!isLeader()) {
    for (;;) {
      pid_t r = ::waitpid(tid_, &status, __WALL);
      if (r == tid_) break;
      if (r < 0 && errno == EINTR) continue;
      failErrno("{}: waitpid failed", who());
    }
  } else {
    // A thread-group leader that dies reports its exit only once its other threads are
    // reaped, and they are ours to reap if we trace them: reap exited siblings while waiting.
    for (int spins = 0;; ++spins) {
      pid_t r = ::waitpid(tid_, &status, __WALL | WNOHANG);
      if (r == tid_) break;
      if (r < 0 && errno != EINTR) failErrno("{}: waitpid failed", who());
      siginfo_t si{};
      // (A tracer is told of its tracees' ptrace stops even without WUNTRACED: look only at
      // exits.)
      bool exited = false;
      if (::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 && si.si_pid > 0)
        exited = si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
      if (exited && si.si_pid != tid_ && threadOfSameGroup(si.si_pid)) {
        int st = 0;
        if (::waitpid(si.si_pid, &st, __WALL) == si.si_pid) {
          std::lock_guard<std::mutex> l(reapedMutex());
          reaped()[si.si_pid] = st;
        }
        continue;
      }
      if (spins < 2000)
        ::sched_yield();
      else
        ::usleep(100);
    }
  }
  Stop s;
  s.status = status;
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    s.kind = Stop::kExited;
    attached_ = false;
    std::lock_guard<std::mutex> l(reapedMutex());
    reaped()[tid_] = status;
    return s;
  }
  if (!WIFSTOPPED(status)) fail("{}: unexpected wait status {:#x}", who(), status);
  int sig = WSTOPSIG(status);
  int event = status >> 16;
  if (sig == (SIGTRAP | 0x80)) {
    s.kind = Stop::kSyscall;
  } else if (event == PTRACE_EVENT_STOP) {
    // Either a PTRACE_INTERRUPT stop (SIGTRAP) or a group stop (the stopping signal).
    if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
      s.kind = Stop::kGroupStop;
      s.signal = sig;
    } else {
      s.kind = Stop::kEvent;
      s.event = 0;
    }
  } else if (event != 0) {
    s.kind = Stop::kEvent;
    s.event = event;
  } else {
    s.kind = Stop::kSignal;
    s.signal = sig;
  }
  return s;
}

void Tracee::resume(int request, int sig) {
  if (::ptrace(static_cast<__ptrace_request>(request), tid_, nullptr,
               reinterpret_cast<void*>(static_cast<intptr_t>(sig))) != 0)
    failErrno("{}: cannot resume (ptrace request {})", who(), request);
}

bool Tracee::reportsWithin(std::chrono::microseconds limit) const {
  auto until = std::chrono::steady_clock::now() + limit;
  do {
    siginfo_t si{};
    // (A look only: the stop, or the exit, is still there for wait().)
    if (::waitid(P_PID, tid_, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) != 0 ||
        si.si_pid == tid_)
      return true;  // (an error is wait()'s to report)
  } while (std::chrono::steady_clock::now() < until);
  return false;
}

bool Tracee::stopWaiting() const {
  siginfo_t si{};
  // (A look only: the stop is still there for wait().)
  return ::waitid(P_PID, tid_, &si, WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0 &&
         si.si_pid == tid_;
}

void Tracee::freeze(const SlowToStop& slowToStop) {
  // A stop already waiting (a thread seized in a job-control stop is in its group-stop trap
  // as soon as PTRACE_SEIZE returns) is taken without an interrupt: an interrupt left pending
  // would stop the thread again the moment it is resumed.
  if (!stopWaiting()) interrupt();
  if (slowToStop && !reportsWithin(kPromptStop)) slowToStop(tid_);
  for (int rounds = 0;; ++rounds) {
    Stop s = wait();
    // Any other stop taken after the interrupt uses it up (the kernel clears a pending
    // interrupt at every ptrace stop): interrupt again while the thread is held, so that the
    // interrupt stop comes right after this one ends.
    switch (s.kind) {
      case Stop::kEvent:
        if (s.event == 0) return;  // the PTRACE_INTERRUPT stop
        interrupt();
        resume(PTRACE_CONT, 0);
        break;
      case Stop::kSignal:
        // A signal was on its way in: deliver it; the interrupt stop follows.
        interrupt();
        resume(PTRACE_CONT, s.signal);
        break;
      case Stop::kSyscall:
        interrupt();
        resume(PTRACE_CONT, 0);
        break;
      case Stop::kGroupStop:
        // Stopped by job control (or a stop signal came first): the group-stop trap is a
        // ptrace stop like the interrupt's, and it used the interrupt up. Detached, the
        // thread goes back to its group stop.
        groupStopSignal_ = s.signal;
        return;
      case Stop::kExited:
        fail("{} exited while being frozen ({})", who(), s.describe());
    }
    if (rounds > 1000) fail("{}: could not be frozen (signal storm?)", who());
  }
}

void Tracee::detach(int sig) {
  if (!attached_) return;
  auto detachNow = [&] {
    return ::ptrace(PTRACE_DETACH, tid_, nullptr,
                    reinterpret_cast<void*>(static_cast<intptr_t>(sig))) == 0;
  };
  if (detachNow()) {
    attached_ = false;
    return;
  }
  if (errno != ESRCH) failErrno("{}: detach failed", who());
  // ESRCH: the thread is gone, or it runs (PTRACE_DETACH needs a ptrace stop: a freeze that
  // failed midway leaves one running). Stop it and detach then, so it never stays traced.
  if (!ProcFs::exists(tid_)) {
    attached_ = false;
    return;
  }
  try {
    freeze();
  } catch (const Error&) {
    if (!attached_) return;  // it exited meanwhile (and wait() reaped it)
    throw;
  }
  if (!detachNow() && errno != ESRCH) failErrno("{}: detach failed", who());
  attached_ = false;
}

Registers Tracee::regs() const {
  user_regs_struct r{};
  iovec iov{&r, sizeof r};
  if (::ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0)
    failErrno("{}: cannot read registers", who());
  return Registers(r);
}

void Tracee::setRegs(const Registers& regs) {
  user_regs_struct r = regs.raw();
  iovec iov{&r, sizeof r};
  if (::ptrace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0)
    failErrno("{}: cannot write registers ({})", who(), regs.describe());
}

std::vector<uint8_t> Tracee::regset(int type, size_t maxSize) const {
  std::vector<uint8_t> buf(maxSize);
  iovec iov{buf.data(), buf.size()};
  if (::ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(static_cast<intptr_t>(type)),
               &iov) != 0)
    failErrno("{}: cannot read register set {:#x}", who(), type);
  buf.resize(iov.iov_len);
  return buf;
}

void Tracee::setRegset(int type, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> copy = data;
  iovec iov{copy.data(), copy.size()};
  if (::ptrace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(static_cast<intptr_t>(type)),
               &iov) != 0)
    failErrno("{}: cannot write register set {:#x} ({} bytes)", who(), type, data.size());
}

uint64_t Tracee::signalMask() const {
  uint64_t m = 0;
  if (::ptrace(PTRACE_GETSIGMASK, tid_, reinterpret_cast<void*>(sizeof m), &m) != 0)
    failErrno("{}: cannot read signal mask", who());
  return m;
}

void Tracee::setSignalMask(uint64_t mask) {
  if (::ptrace(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask), &mask) != 0)
    failErrno("{}: cannot set signal mask", who());
}

std::vector<siginfo_t> Tracee::pendingSignals(bool shared) const {
  std::vector<siginfo_t> out;
  for (;;) {
    __ptrace_peeksiginfo_args a{};
    a.off = out.size();
    a.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0;
    a.nr = 32;
    siginfo_t buf[32];
    long n = ::ptrace(PTRACE_PEEKSIGINFO, tid_, &a, buf);
    if (n < 0) failErrno("{}: cannot read pending signals", who());
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

cryo_ptrace_rseq_configuration Tracee::rseq() const {
  cryo_ptrace_rseq_configuration c{};
  if (::ptrace(static_cast<__ptrace_request>(PTRACE_GET_RSEQ_CONFIGURATION), tid_,
               reinterpret_cast<void*>(sizeof c), &c) < 0)
    failErrno("{}: cannot read rseq configuration", who());
  return c;
}

unsigned long Tracee::eventMessage() const {
  unsigned long m = 0;
  if (::ptrace(PTRACE_GETEVENTMSG, tid_, nullptr, &m) != 0)
    failErrno("{}: cannot read ptrace event message", who());
  return m;
}

}  // namespace cryo
