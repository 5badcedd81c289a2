// ThreadsRestorer: recreates the other threads with their saved TIDs (clone3 set_tid from the
// leader) and restores per-thread kernel state: robust list, clear_child_tid, rseq,
// alternate stack, name, scheduling and private pending signals. Registers, extended state and
// signal masks are applied by RestoreDriver as the very last step.
#include "restore/ThreadsRestorer.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/KernelCompat.h"
#include "common/ProcFs.h"
#include "restore/ProcessBuilder.h"
#include "restore/RestoreContext.h"

namespace cryo {

void ThreadsRestorer::validate(RestoreContext& ctx, const img::Process& in) {
  if (in.threads_size() == 0 || in.threads(0).tid() != in.pid())
    fail("pid {}: the image has no main thread: it is corrupt", ctx.pid());
  for (const auto& th : in.threads())
    if (th.tid() != in.pid() && ProcFs::exists(th.tid()))
      fail("cannot restore thread {} of pid {}: {}", th.tid(), in.pid(),
           ProcFs::describe(th.tid()));
}

void ThreadsRestorer::createThread(RestoreContext& ctx, pid_t tid) {
  ctx.addThread(ProcessBuilder::cloneFrom(
      ctx, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, 0,
      tid, "thread", nullptr));
}

void ThreadsRestorer::restoreThreadState(RestoreContext& ctx, const img::Thread& th) {
  pid_t tid = th.tid();
  RemoteSyscalls& rs = ctx.syscalls(tid);
  RemoteScratch& s = ctx.scratch();
  std::string who = fmt::format("pid {} tid {}", ctx.pid(), tid);

  if (th.robust_list())
    rs.check(who + ": set_robust_list", SYS_set_robust_list, th.robust_list(),
             th.robust_list_len());
  rs.check(who + ": set_tid_address", SYS_set_tid_address, th.clear_child_tid());
  if (th.rseq().pointer())
    rs.check(who + ": rseq registration", __NR_rseq, th.rseq().pointer(), th.rseq().size(), 0,
             th.rseq().signature());
  if (!(th.altstack().flags() & SS_DISABLE)) {
    stack_t ss{};
    ss.ss_sp = reinterpret_cast<void*>(th.altstack().sp());
    ss.ss_size = th.altstack().size();
    ss.ss_flags = th.altstack().flags() & ~SS_ONSTACK;
    rs.check(who + ": sigaltstack", SYS_sigaltstack, s.putValue(ss), 0);
  }
  if (!th.comm().empty())
    rs.check(who + ": prctl(PR_SET_NAME)", SYS_prctl, PR_SET_NAME, s.putString(th.comm()));

  const img::SchedAttr& sa = th.sched();
  cryo_sched_attr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = sa.policy();
  attr.sched_flags = sa.flags();
  attr.sched_nice = sa.nice();
  attr.sched_priority = sa.priority();
  attr.sched_runtime = sa.runtime();
  attr.sched_deadline = sa.deadline();
  attr.sched_period = sa.period();
  if (::syscall(SYS_sched_setattr, tid, &attr, 0) != 0)
    failErrno("{}: cannot restore scheduling (policy {}, nice {}, priority {})", who,
              sa.policy(), sa.nice(), sa.priority());
  if (sa.affinity().size() == sizeof(cpu_set_t)) {
    cpu_set_t set;
    std::memcpy(&set, sa.affinity().data(), sizeof set);
    if (::sched_setaffinity(tid, sizeof set, &set) != 0)
      spdlog::warn("{}: CPU affinity of the checkpoint cannot be applied here ({}); the thread "
                   "may run on any CPU",
                   who, strerror(errno));
  }

  for (const auto& sig : th.pending()) {
    siginfo_t si{};
    std::memcpy(&si, sig.siginfo().data(), std::min(sig.siginfo().size(), sizeof si));
    s.reset();
    rs.check(fmt::format("{}: queueing pending signal {}", who, si.si_signo),
             SYS_rt_tgsigqueueinfo, static_cast<uint64_t>(ctx.pid()),
             static_cast<uint64_t>(tid), static_cast<uint64_t>(si.si_signo), s.putValue(si));
  }
}

void ThreadsRestorer::restore(RestoreContext& ctx, const img::Process& in) {
  for (const auto& th : in.threads())
    if (th.tid() != in.pid()) createThread(ctx, th.tid());
  for (const auto& th : in.threads()) restoreThreadState(ctx, th);
}

}  // namespace cryo
