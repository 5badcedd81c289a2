// SignalsCollector: process-wide signal state: every handler (with flags, mask and restorer)
// and the signals pending for the whole process.
#include "dump/SignalsCollector.h"

#include <fmt/format.h>

#include <signal.h>
#include <sys/syscall.h>

#include "common/Error.h"
#include "dump/DumpContext.h"
#include "common/KernelSigaction.h"

namespace cryo {

void SignalsCollector::collect(DumpContext& ctx, img::Process& out) {
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  RemoteScratch& s = ctx.scratch();
  uint64_t buf = s.alloc(sizeof(KernelSigaction));
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    rs.check(fmt::format("rt_sigaction({}) query", sig), SYS_rt_sigaction,
             static_cast<uint64_t>(sig), 0, buf, 8);
    auto act = s.get<KernelSigaction>(buf);
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
}

}  // namespace cryo
