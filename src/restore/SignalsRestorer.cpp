// SignalsRestorer: reinstalls every signal handler and queues the process-wide pending signals
// (queued by the process to itself, so any si_code is accepted).
#include "restore/SignalsRestorer.h"

#include <signal.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>

#include "common/Error.h"
#include "common/KernelSigaction.h"
#include "restore/RestoreContext.h"

namespace cryo {

void SignalsRestorer::restore(RestoreContext& ctx, const img::Process& in) {
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  for (const auto& a : in.sigactions()) {
    KernelSigaction act{a.handler(), a.flags(), a.restorer(), a.mask()};
    RemoteScratch& s = ctx.scratch();
    rs.check(fmt::format("pid {}: rt_sigaction({})", ctx.pid(), a.sig()), SYS_rt_sigaction,
             static_cast<uint64_t>(a.sig()), s.putValue(act), 0, 8);
  }
  for (const auto& p : in.shared_pending()) {
    siginfo_t si{};
    std::memcpy(&si, p.siginfo().data(), std::min(p.siginfo().size(), sizeof si));
    RemoteScratch& s = ctx.scratch();
    rs.check(fmt::format("pid {}: queueing pending signal {}", ctx.pid(), si.si_signo),
             SYS_rt_sigqueueinfo, static_cast<uint64_t>(ctx.pid()),
             static_cast<uint64_t>(si.si_signo), s.putValue(si));
  }
}

}  // namespace cryo
