// PosixTimersRestorer: the POSIX timers of the process created again (timer_create injected in
// the restored task) under their saved IDs, then armed with the time left at the dump.
#include "restore/PosixTimersRestorer.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/KernelCompat.h"
#include "restore/RestoreContext.h"

namespace cryo {

namespace {

// Holes below the highest saved ID that cryo fills with placeholder timers, at most, when
// the kernel hands out IDs only in sequence.
constexpr int kMaxPlaceholders = 1 << 16;

// The kernel's struct sigevent (64 bytes).
struct KernelSigevent {
  uint64_t value;
  int32_t signo;
  int32_t notify;
  int32_t tid;  // SIGEV_THREAD_ID
  int32_t pad[11];
};
static_assert(sizeof(KernelSigevent) == 64);

timespec toTimespec(uint64_t ns) {
  return {static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
}

int maxId(const img::Process& in) {
  int m = -1;
  for (const auto& t : in.posix_timers()) m = std::max(m, t.id());
  return m;
}

}  // namespace

bool PosixTimersRestorer::kernelTakesIds() {
  const char* force = std::getenv("CRYO_TIMER_IDS");
  if (force && std::strcmp(force, "sequential") == 0) return false;
  return ::prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0) >= 0;
}

void PosixTimersRestorer::validate(RestoreContext& ctx, const img::Process& in) {
  if (in.posix_timers().empty() || kernelTakesIds()) return;
  int holes = maxId(in) + 1 - in.posix_timers_size();
  if (holes > kMaxPlaceholders)
    fail("pid {}: its POSIX timer IDs go up to {}; this kernel hands out timer IDs only in "
         "sequence, and cryo creates at most {} placeholder timers to reach one "
         "(prctl PR_TIMER_CREATE_RESTORE_IDS, Linux 6.15, can be asked for an ID)",
         ctx.pid(), maxId(in), kMaxPlaceholders);
}

int PosixTimersRestorer::create(RestoreContext& ctx, const img::PosixTimer& t, bool placeholder,
                                int requestedId) {
  KernelSigevent ev{};
  if (placeholder) {
    ev.notify = SIGEV_NONE;
  } else {
    ev.value = t.sigval();
    ev.signo = t.signo();
    ev.notify = t.notify();
    ev.tid = t.notify_tid();
  }
  RemoteScratch& s = ctx.scratch();
  uint64_t evAddr = s.putValue(ev);
  uint64_t idAddr = s.putValue(static_cast<int32_t>(requestedId));
  clockid_t clock = placeholder ? CLOCK_MONOTONIC : t.clockid();
  ctx.leaderSyscalls().check(
      placeholder ? fmt::format("pid {}: timer_create of a placeholder for timer ID {}",
                                ctx.pid(), requestedId)
                  : fmt::format("pid {}: timer_create of POSIX timer {} (clock {}, notify {}, "
                                "signal {})",
                                ctx.pid(), t.id(), t.clockid(), t.notify(), t.signo()),
      SYS_timer_create, static_cast<uint64_t>(clock), evAddr, idAddr);
  return s.get<int32_t>(idAddr);
}

void PosixTimersRestorer::restore(RestoreContext& ctx, const img::Process& in) {
  if (in.posix_timers().empty()) return;
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  pid_t pid = ctx.pid();
  auto gotWrongId = [&](int want, int got) {
    fail("pid {}: the kernel gave POSIX timer {} the ID {} instead; cannot restore its timers",
         pid, want, got);
  };
  // Either ask timer_create for each saved ID, or rely on the kernel handing out IDs in
  // sequence from 0 (a fresh process): create in ID order, with placeholders (created and
  // deleted at once) for the IDs of timers deleted before the dump.
  bool byId = kernelTakesIds() &&
              rs.call(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON) == 0;
  spdlog::debug("pid {}: {} POSIX timers, IDs {}", pid, in.posix_timers_size(),
                byId ? "requested from timer_create" : "taken in sequence");
  int next = 0;
  for (const auto& t : in.posix_timers()) {
    if (!byId) {
      for (; next < t.id(); ++next) {
        int got = create(ctx, t, true, next);
        if (got != next) gotWrongId(next, got);
        rs.check(fmt::format("pid {}: timer_delete of placeholder timer {}", pid, got),
                 SYS_timer_delete, static_cast<uint64_t>(got));
      }
    }
    int got = create(ctx, t, false, t.id());
    if (got != t.id()) gotWrongId(t.id(), got);
    next = t.id() + 1;
  }
  if (byId)
    rs.check(fmt::format("pid {}: prctl(PR_TIMER_CREATE_RESTORE_IDS, OFF)", pid), SYS_prctl,
             PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF);
  // Armed last, with the time that was left at the dump: the time the task was not running
  // does not count as passed.
  for (const auto& t : in.posix_timers()) {
    if (!t.value_ns()) continue;
    itimerspec its{toTimespec(t.interval_ns()), toTimespec(t.value_ns())};
    rs.check(fmt::format("pid {}: timer_settime of POSIX timer {}", pid, t.id()), SYS_timer_settime,
             static_cast<uint64_t>(t.id()), 0, ctx.scratch().putValue(its), 0);
  }
}

}  // namespace cryo
