// ProcessBuilder: creates the empty shell of a process to restore: a child of cryo with the
// saved PID (clone3 set_tid), held under ptrace (dies with cryo), stripped of cryo's memory and
// fds, with a code page and scratch area from which the restorers work.
#include "restore/ProcessBuilder.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/KernelSigaction.h"
#include "common/KernelCompat.h"
#include "common/ProcFs.h"
#include "image/ImageFormat.h"

namespace cryo {

namespace {

constexpr uint64_t kPage = image::kPageSize;

[[noreturn]] void stubMain() {
  // The child only waits to be taken over; it must use nothing but raw syscalls.
  ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  for (;;) ::syscall(SYS_pause);
}

pid_t cloneWithPid(pid_t pid) {
  cryo_clone_args args{};
  pid_t want = pid;
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<uint64_t>(&want);
  args.set_tid_size = 1;
  long r = ::syscall(__NR_clone3, &args, sizeof args);
  if (r == 0) stubMain();
  if (r < 0) {
    int e = errno;
    if (e == EEXIST) fail("cannot restore: {}", ProcFs::describe(pid));
    if (e == EPERM)
      throw SysError(fmt::format("cannot create pid {} (needs CAP_CHECKPOINT_RESTORE or root)",
                                 pid),
                     e);
    throw SysError(fmt::format("cannot create a process with pid {}", pid), e);
  }
  if (r != pid) fail("asked the kernel for pid {}, got {}", pid, r);
  return static_cast<pid_t>(r);
}

}  // namespace

uint64_t ProcessBuilder::findHole(const std::vector<std::pair<uint64_t, uint64_t>>& usedIn,
                                  uint64_t size) {
  auto used = usedIn;
  std::sort(used.begin(), used.end());
  const uint64_t kLow = 1ULL << 32, kHigh = 0x7ff000000000ULL, kGuard = 1ULL << 20;
  uint64_t cand = kLow;
  for (auto& [s, e] : used) {
    if (e + kGuard <= cand) continue;
    if (s >= cand + size + kGuard) break;
    cand = std::max(cand, (e + kGuard + kPage - 1) & ~(kPage - 1));
  }
  if (cand + size > kHigh) fail("no free address range of {} bytes for the restore", size);
  return cand;
}

ShellGuard::~ShellGuard() {
  for (pid_t pid : pids_) ::kill(pid, SIGKILL);
  // cryo traces every shell (and is the root's parent): each reports its death to cryo.
  for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) {
    int status;
    while (::waitpid(*it, &status, __WALL) < 0 && errno == EINTR) {
    }
  }
}

// Every disposition starts at the default: the ones cryo had (a sanitizer's handlers, a signal
// its caller ignored) are not the task's, and only those the task changed are in the image.
void ProcessBuilder::resetDispositions(RestoreContext& ctx) {
  auto status = ProcFs::status(ProcFs::path(ctx.pid(), "status"));
  uint64_t set = std::strtoull(status["SigCgt"].c_str(), nullptr, 16) |
                 std::strtoull(status["SigIgn"].c_str(), nullptr, 16);
  const KernelSigaction dfl{0, 0, 0, 0};  // SIG_DFL
  for (int sig = 1; sig <= 64; ++sig)
    if (set & (uint64_t{1} << (sig - 1)))
      ctx.leaderSyscalls().check(fmt::format("pid {}: rt_sigaction({}, SIG_DFL)", ctx.pid(), sig),
                                 SYS_rt_sigaction, static_cast<uint64_t>(sig),
                                 ctx.scratch().putValue(dfl), 0, 8);
}

void ProcessBuilder::createShell(RestoreContext& ctx, ShellGuard& guard, const img::Tree& tree) {
  const img::Process& proc = ctx.process();
  pid_t pid = cloneWithPid(proc.pid());
  guard.arm(pid);
  auto leader = std::make_unique<Tracee>(
      pid, PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACESYSGOOD);
  leader->freeze();
  ctx.adoptLeader(std::move(leader));

  uint64_t site = RemoteSyscalls::findSyscallSiteInVdso(pid);
  if (!site) fail("pid {}: the new process has no [vdso] to inject syscalls from", pid);
  ctx.setSyscallSite(site);
  RemoteSyscalls& rs = ctx.leaderSyscalls();

  // Forget cryo's per-thread registrations: the kernel would write into memory about to go
  // (an rseq area that vanished makes the kernel kill the thread with SIGSEGV).
  cryo_ptrace_rseq_configuration rc = ctx.thread(pid).rseq();
  if (rc.rseq_abi_pointer)
    rs.check("rseq unregistration", __NR_rseq, rc.rseq_abi_pointer, rc.rseq_abi_size,
             1 /* RSEQ_FLAG_UNREGISTER */, rc.signature);
  rs.check("set_robust_list(NULL)", SYS_set_robust_list, 0, 24);
  rs.check("set_tid_address(NULL)", SYS_set_tid_address, 0);

  // A code page and a scratch area, where neither the shell nor the image has anything.
  std::vector<std::pair<uint64_t, uint64_t>> used;
  for (const MapsEntry& m : ProcFs::maps(pid, false)) used.emplace_back(m.start, m.end);
  // Children's shells are copies of this one: the area must be free in all of the tree.
  for (const auto& p : tree.processes())
    for (const auto& v : p.vmas()) used.emplace_back(v.start(), v.end());
  uint64_t base = findHole(used, kPage + kScratchSize);
  uint64_t code = rs.check("mmap of the code page", SYS_mmap, base, kPage, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                           static_cast<uint64_t>(-1), 0);
  std::vector<uint8_t> insn(Registers::kSyscallInsn.begin(), Registers::kSyscallInsn.end());
  insn.resize(16, 0xcc);
  ctx.memory().write(code, insn.data(), insn.size());
  rs.check("mprotect of the code page", SYS_mprotect, code, kPage, PROT_READ | PROT_EXEC);
  ctx.setScratch(std::make_unique<RemoteScratch>(rs, ctx.memory(), kScratchSize, base + kPage));
  ctx.setSyscallSite(code);
  rs.setStack(base + kPage + kScratchSize - 64);
  resetDispositions(ctx);

  const int stdio[3] = {0, 1, 2};
  setupFds(ctx, stdio);
  leadSessionAndGroup(ctx);
}

void ProcessBuilder::raiseFdLimit(RestoreContext& ctx, int maxFd) {
  pid_t pid = ctx.pid();
  rlimit lim{};
  if (::prlimit(pid, RLIMIT_NOFILE, nullptr, &lim) != 0) failErrno("pid {}: prlimit", pid);
  if (static_cast<rlim_t>(maxFd + 1 + 64) > lim.rlim_max)
    fail("pid {}: the image uses fd {}, above this system's RLIMIT_NOFILE hard limit {}", pid,
         maxFd, lim.rlim_max);
  lim.rlim_cur = lim.rlim_max;
  if (::prlimit(pid, RLIMIT_NOFILE, &lim, nullptr) != 0)
    failErrno("pid {}: cannot raise RLIMIT_NOFILE", pid);
}

void ProcessBuilder::setupFds(RestoreContext& ctx, const int stdio[3]) {
  // File descriptors: keep copies of cryo's standard streams above every fd the image uses,
  // close everything else.
  const img::Process& proc = ctx.process();
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  int maxFd = 2;
  for (const auto& fd : proc.fds()) maxFd = std::max(maxFd, fd.fd());
  for (const auto& d : proc.files())  // (stale epoll entries name numbers no fd uses now)
    for (const auto& t : d.epoll().targets()) maxFd = std::max(maxFd, t.fd());
  for (int n = 0; n < 3; ++n) maxFd = std::max(maxFd, stdio[n]);
  int high = maxFd + 1;
  raiseFdLimit(ctx, maxFd);
  ctx.setHighFd(high);
  for (int n = 0; n < 3; ++n) {
    long r = stdio[n] < 0 ? -EBADF
                          : rs.call(SYS_fcntl, static_cast<uint64_t>(stdio[n]), F_DUPFD_CLOEXEC,
                                    static_cast<uint64_t>(high + n));
    ctx.setInheritedStdio(n, r == high + n ? static_cast<int>(r) : -1);
    if (r >= 0 && r != high + n) rs.call(SYS_close, static_cast<uint64_t>(r));
  }
  rs.check("close_range below the restored fds", __NR_close_range, 0,
           static_cast<uint64_t>(high - 1), 0);
  rs.check("close_range above the restored fds", __NR_close_range,
           static_cast<uint64_t>(high + 3), UINT_MAX, 0);
}

std::unique_ptr<Tracee> ProcessBuilder::cloneFrom(RestoreContext& from, uint64_t flags,
                                                  int exitSignal, pid_t want,
                                                  const std::string& what, ShellGuard* guard) {
  RemoteSyscalls& rs = from.leaderSyscalls();
  RemoteScratch& s = from.scratch();
  cryo_clone_args args{};
  args.flags = flags;
  args.exit_signal = static_cast<uint64_t>(exitSignal);
  args.set_tid = s.putValue(want);
  args.set_tid_size = 1;
  long r = rs.call(__NR_clone3, s.putValue(args), sizeof args);
  if (r == -EEXIST) fail("cannot restore {} {} of pid {}: {}", what, want, from.pid(),
                         ProcFs::describe(want));
  if (r < 0)
    throw SysError(fmt::format("pid {}: cannot create {} {}", from.pid(), what, want),
                   static_cast<int>(-r));
  if (guard && !(flags & CLONE_THREAD)) guard->arm(static_cast<pid_t>(r));
  if (r != want) fail("pid {}: asked the kernel for {} {}, got {}", from.pid(), what, want, r);
  rs.takeNewTasks();
  auto t = std::make_unique<Tracee>(Tracee::adopt(want));
  Stop st = t->wait();  // its first stop, as a traced new task
  if (st.kind != Stop::kEvent)
    fail("pid {}: new {} {} reported {} instead of its first stop", from.pid(), what, want,
         st.describe());
  return t;
}

void ProcessBuilder::createChildShell(RestoreContext& ctx, RestoreContext& parent,
                                      ShellGuard& guard) {
  const img::Process& proc = ctx.process();
  // What it shares with its parent is shared from birth (a table cannot be joined later).
  bool files = proc.files_shared_with() != 0 && !FaultPoint::skips("restore-shared-fd-table");
  bool fs = proc.fs_shared_with() != 0 && !FaultPoint::skips("restore-shared-fs");
  uint64_t flags = (files ? CLONE_FILES : 0) | (fs ? CLONE_FS : 0);
  // A child of the parent's shell (fork-like: no CLONE_VM), traced from birth.
  auto leader = cloneFrom(parent, flags, SIGCHLD, ctx.pid(), "child", &guard);
  ctx.adoptLeader(std::move(leader));
  ctx.setShares(files, fs);
  // A copy of the parent's shell: the same code page and scratch addresses.
  ctx.setSyscallSite(parent.syscallSite());
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  uint64_t scratch = parent.scratch().addr();
  ctx.setScratch(std::make_unique<RemoteScratch>(ctx.memory(), scratch, kScratchSize));
  rs.setStack(scratch + kScratchSize - 64);
  if (files) {
    // The parent's table, which the parent restores: the same free numbers for temporary fds,
    // the same copies of cryo's standard streams (for the children it forks itself).
    raiseFdLimit(ctx, parent.highFd() - 1);
    ctx.setHighFd(parent.highFd());
    for (int n = 0; n < 3; ++n) ctx.setInheritedStdio(n, parent.inheritedStdio(n));
  } else {
    int stdio[3];
    for (int n = 0; n < 3; ++n) stdio[n] = parent.inheritedStdio(n);
    setupFds(ctx, stdio);
  }
  leadSessionAndGroup(ctx);
}

void ProcessBuilder::leadSessionAndGroup(RestoreContext& ctx) {
  const img::Process& proc = ctx.process();
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  if (proc.sid() == proc.pid())
    rs.check(fmt::format("pid {}: setsid (it led its session)", proc.pid()), SYS_setsid);
  else if (proc.pgid() == proc.pid())
    rs.check(fmt::format("pid {}: setpgid (it led its process group)", proc.pid()), SYS_setpgid,
             0, 0);
}

void ProcessBuilder::joinProcessGroup(RestoreContext& ctx, bool ledInTree) {
  const img::Process& proc = ctx.process();
  if (proc.pgid() == proc.pid()) return;  // it leads its group (made so at creation)
  if (ProcFs::stat(proc.pid()).pgrp == proc.pgid()) return;
  long r = ctx.leaderSyscalls().call(SYS_setpgid, 0, static_cast<uint64_t>(proc.pgid()));
  if (r >= 0) return;
  if (ledInTree)
    throw SysError(fmt::format("pid {}: cannot join process group {}", proc.pid(), proc.pgid()),
                   static_cast<int>(-r));
  // A group outside the tree (the original's shell's): joined only if it exists in this
  // session, as a restore outside it cannot recreate it.
  spdlog::info("pid {}: its process group {} (session {}) cannot be joined here; it stays in "
               "the group it was restored in",
               proc.pid(), proc.pgid(), proc.sid());
}

void ProcessBuilder::becomeZombie(RestoreContext& ctx, RestoreContext& parent) {
  const img::Process& proc = ctx.process();
  int status = proc.exit_status();
  Tracee& t = ctx.thread(proc.pid());
  // A zombie keeps its name (ps, /proc/PID/stat): the one it had, not the restoring cryo's.
  if (!proc.comm().empty()) {
    uint64_t at = ctx.scratch().putString(proc.comm().substr(0, 15));
    ctx.leaderSyscalls().check(fmt::format("pid {}: prctl(PR_SET_NAME)", proc.pid()), SYS_prctl,
                               PR_SET_NAME, at);
  }
  ctx.forgetSyscalls();
  t.setSignalMask(0);
  if (WIFSIGNALED(status)) {
    // Killed by a signal: no core file for it (the original wrote what it wrote).
    rlimit none{0, 0};
    ::prlimit(proc.pid(), RLIMIT_CORE, &none, nullptr);
    ::kill(proc.pid(), WTERMSIG(status));
    t.resume(PTRACE_CONT);
  } else {
    Registers r = t.regs();
    r.prepareSyscall(ctx.syscallSite(), SYS_exit_group,
                     {static_cast<uint64_t>(WEXITSTATUS(status)), 0, 0, 0, 0, 0});
    t.setRegs(r);
    t.resume(PTRACE_CONT);
  }
  for (;;) {
    Stop s = t.wait();
    if (s.kind == Stop::kExited) break;
    t.resume(PTRACE_CONT, s.kind == Stop::kSignal ? s.signal : 0);
  }
  // Its exit told the parent with SIGCHLD: take it back (the parent's shell blocks signals).
  RemoteScratch& s = parent.scratch();
  uint64_t set = s.putValue(static_cast<uint64_t>(1) << (SIGCHLD - 1));
  timespec zero{};
  parent.leaderSyscalls().call(SYS_rt_sigtimedwait, set, 0, s.putValue(zero), 8);
}

void ProcessBuilder::removeScaffolding(RestoreContext& ctx) {
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  std::unique_ptr<RemoteScratch> scratch = ctx.takeScratch();
  uint64_t base = scratch->addr() - kPage;
  scratch->keep();
  rs.check("prctl(PR_SET_PDEATHSIG, 0)", SYS_prctl, PR_SET_PDEATHSIG, 0);
  uint64_t vdsoSite = RemoteSyscalls::findSyscallSiteInVdso(ctx.pid());
  if (!vdsoSite) fail("pid {}: the restored [vdso] has no syscall instruction", ctx.pid());
  ctx.setSyscallSite(vdsoSite);
  rs.check("munmap of cryo's code page and scratch area", SYS_munmap, base, kPage + kScratchSize);
}

}  // namespace cryo
