// ProcessMiscRestorer: process-wide odds and ends: working and root directory, umask,
// personality, rlimits, prctl flags, session and process group, and (last) interval timers.
#include "restore/ProcessMiscRestorer.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "restore/RestoreContext.h"

namespace cryo {

void ProcessMiscRestorer::validate(RestoreContext& ctx, const img::Process& in) {
  const auto& m = in.misc();
  if (!m.cwd().empty() && !std::filesystem::is_directory(m.cwd()))
    fail("pid {}: its working directory {} does not exist here", ctx.pid(), m.cwd());
  if (!m.root().empty() && !std::filesystem::is_directory(m.root()))
    fail("pid {}: its root directory {} does not exist here", ctx.pid(), m.root());
}

void ProcessMiscRestorer::restoreRlimits(RestoreContext& ctx, const img::Process& in) {
  for (const auto& l : in.rlimits()) {
    auto res = static_cast<__rlimit_resource>(l.resource());
    rlimit cur{};
    if (::prlimit(ctx.pid(), res, nullptr, &cur) != 0)
      failErrno("pid {}: cannot read rlimit {}", ctx.pid(), l.resource());
    rlimit want{l.cur(), l.max()};
    if (::prlimit(ctx.pid(), res, &want, nullptr) == 0) continue;
    if (errno != EPERM) failErrno("pid {}: cannot set rlimit {}", ctx.pid(), l.resource());
    // Raising a hard limit needs CAP_SYS_RESOURCE: keep this system's hard limit.
    rlimit clamped{std::min<rlim_t>(l.cur(), cur.rlim_max), cur.rlim_max};
    if (::prlimit(ctx.pid(), res, &clamped, nullptr) != 0)
      failErrno("pid {}: cannot set rlimit {}", ctx.pid(), l.resource());
    spdlog::warn("pid {}: rlimit {} had hard limit {}; this system allows at most {} here",
                 ctx.pid(), l.resource(), l.max(), cur.rlim_max);
  }
}

void ProcessMiscRestorer::restoreFs(RestoreContext& ctx, const img::Process& in) {
  // Shared (CLONE_FS): set once, by the last process of those sharing them (a chroot twice
  // would not find the same directory, and the others open their files before it).
  if (!ctx.restoresFs()) return;
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  const auto& m = in.misc();
  std::string who = fmt::format("pid {}", ctx.pid());
  if (!m.root().empty() && m.root() != "/")
    rs.check(who + ": chroot " + m.root(), SYS_chroot, ctx.scratch().putString(m.root()));
  if (!m.cwd().empty())
    rs.check(who + ": chdir " + m.cwd(), SYS_chdir, ctx.scratch().putString(m.cwd()));
  rs.check(who + ": umask", SYS_umask, m.umask());
}

void ProcessMiscRestorer::restore(RestoreContext& ctx, const img::Process& in) {
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  const auto& m = in.misc();
  std::string who = fmt::format("pid {}", ctx.pid());
  restoreFs(ctx, in);
  rs.check(who + ": personality", SYS_personality, m.personality());
  restoreRlimits(ctx, in);
  if (m.child_subreaper())
    rs.check(who + ": prctl(PR_SET_CHILD_SUBREAPER)", SYS_prctl, PR_SET_CHILD_SUBREAPER, 1);
  if (m.dumpable() >= 0)
    rs.check(who + ": prctl(PR_SET_DUMPABLE)", SYS_prctl, PR_SET_DUMPABLE,
             static_cast<uint64_t>(m.dumpable()));
  if (m.thp_disable()) rs.check(who + ": prctl(PR_SET_THP_DISABLE)", SYS_prctl, PR_SET_THP_DISABLE, 1);
  if (m.timerslack_ns())
    rs.check(who + ": prctl(PR_SET_TIMERSLACK)", SYS_prctl, PR_SET_TIMERSLACK, m.timerslack_ns());
  // The parent-death signal only where the parent is restored too (the root's is gone).
  if (m.pdeath_signal() && ctx.parentRestored())
    rs.check(who + ": prctl(PR_SET_PDEATHSIG)", SYS_prctl, PR_SET_PDEATHSIG,
             static_cast<uint64_t>(m.pdeath_signal()));
  for (const auto& t : m.itimers()) {
    itimerval v{};
    v.it_interval = {static_cast<time_t>(t.interval_us() / 1000000),
                     static_cast<suseconds_t>(t.interval_us() % 1000000)};
    v.it_value = {static_cast<time_t>(t.value_us() / 1000000),
                  static_cast<suseconds_t>(t.value_us() % 1000000)};
    rs.check(fmt::format("{}: setitimer({})", who, t.which()), SYS_setitimer,
             static_cast<uint64_t>(t.which()), ctx.scratch().putValue(v), 0);
  }
}

}  // namespace cryo
