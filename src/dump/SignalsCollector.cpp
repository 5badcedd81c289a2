// SignalsCollector: process-wide signal state: every handler (with flags, mask and restorer)
// and the signals pending for the whole process.
#include "dump/SignalsCollector.h"

#include <fmt/format.h>

#include <signal.h>
#include <sys/syscall.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"
#include "common/KernelSigaction.h"

namespace cryo {

void SignalsCollector::collect(DumpContext& ctx, img::Process& out) {
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  RemoteScratch& s = ctx.scratch();
  // Every query in one batch (one ptrace stop instead of two per signal).
  std::vector<int> sigs;
  for (int sig = 1; sig <= 64; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) sigs.push_back(sig);
  uint64_t bufs = s.alloc(sigs.size() * sizeof(KernelSigaction));
  uint64_t table = s.alloc(Registers::kBatchControlSize + sigs.size() * Registers::kBatchEntrySize);
  std::vector<RemoteSyscalls::BatchCall> calls(sigs.size());
  for (size_t i = 0; i < sigs.size(); ++i) {
    calls[i].nr = SYS_rt_sigaction;
    calls[i].args = {static_cast<uint64_t>(sigs[i]), 0, bufs + i * sizeof(KernelSigaction), 8, 0, 0};
  }
  rs.callBatch(calls, table);
  std::vector<KernelSigaction> acts(sigs.size());
  s.read(bufs, acts.data(), acts.size() * sizeof(KernelSigaction));
  for (size_t i = 0; i < sigs.size(); ++i) {
    int sig = sigs[i];
    if (calls[i].result < 0)
      throw SysError(fmt::format("{}: rt_sigaction({}) query failed", rs.thread().who(), sig),
                     static_cast<int>(-calls[i].result));
    const KernelSigaction& act = acts[i];
    if (!act.handler && !act.flags && !act.mask) continue;
    img::SigAction* a = out.add_sigactions();
    a->set_sig(sig);
    a->set_handler(act.handler);
    a->set_flags(act.flags);
    a->set_restorer(act.restorer);
    a->set_mask(act.mask);
  }
  for (const siginfo_t& si : ctx.freezer().leader().pendingSignals(true))
    out.add_shared_pending()->set_siginfo(
        std::string(reinterpret_cast<const char*>(&si), sizeof si));
  collectJobStop(ctx, out);
}

void SignalsCollector::collectJobStop(DumpContext& ctx, img::Process& out) {
  int sig = ctx.freezer().stopSignal();
  if (sig == 0) return;
  // Stopped again at restore, the process would tell its parent (SIGCHLD with CLD_STOPPED, a
  // WUNTRACED wait report) a second time: a parent that is restored too would see it.
  pid_t pid = ctx.pid();
  pid_t ppid = ProcFs::stat(pid).ppid;
  if (ctx.fdIndex().holdsProcess(ppid))
    fail("pid {} is stopped by signal {} (job control) and its parent pid {} is dumped with it: "
         "restored, the parent would be told of the stop again; continue it (SIGCONT) first",
         pid, sig, ppid);
  out.set_stop_signal(sig);
}

}  // namespace cryo
