// PosixTimersCollector: the POSIX timers of the process (timer_create): ID, clock, how they
// notify, from /proc/PID/timers; time left and interval from timer_gettime injected in the
// task (in batches).
#include "dump/PosixTimersCollector.h"

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {

// At most this many timer_gettime calls per batch (they and their results fit the scratch area).
constexpr size_t kBatch = 256;

uint64_t toNs(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// "notify: signal/pid.42", "notify: none/pid.42", "notify: signal/tid.43".
void parseNotify(const std::string& v, img::PosixTimer& t, pid_t pid) {
  size_t slash = v.find('/');
  size_t dot = v.find('.', slash == std::string::npos ? 0 : slash);
  if (slash == std::string::npos || dot == std::string::npos)
    fail("pid {}: cannot parse \"notify: {}\" of POSIX timer {} in /proc/{}/timers", pid, v,
         t.id(), pid);
  std::string how = v.substr(0, slash), whom = v.substr(slash + 1, dot - slash - 1);
  int notify;
  if (how == "signal") notify = SIGEV_SIGNAL;
  else if (how == "none") notify = SIGEV_NONE;
  else if (how == "thread") notify = SIGEV_THREAD;
  else fail("pid {}: POSIX timer {} notifies in an unknown way \"{}\"", pid, t.id(), v);
  pid_t target = static_cast<pid_t>(std::strtol(v.c_str() + dot + 1, nullptr, 10));
  if (whom == "tid") {
    notify |= SIGEV_THREAD_ID;
    t.set_notify_tid(target);
  }
  t.set_notify(notify);
}

// CPU-time clocks are negative: ~pid << 3 | per-thread bit (4) | which (2 bits); pid 0 is the
// caller (the process, or the thread that created the timer).
void checkClock(const img::PosixTimer& t, pid_t pid, const std::set<pid_t>& threads) {
  int32_t c = t.clockid();
  if (c >= 0) return;
  pid_t owner = static_cast<pid_t>(~(c >> 3));
  bool perThread = c & 4;
  if (!perThread && owner != 0 && owner != pid)
    fail("pid {}: POSIX timer {} runs on the CPU-time clock of another process (pid {}); cannot "
         "checkpoint it",
         pid, t.id(), owner);
  if (perThread && owner != 0 && !threads.count(owner))
    fail("pid {}: POSIX timer {} runs on the CPU-time clock of thread {}, which is not one of "
         "its threads; cannot checkpoint it",
         pid, t.id(), owner);
  if (perThread && owner == 0 && threads.size() > 1)
    fail("pid {}: POSIX timer {} runs on the CPU-time clock of the thread that created it, "
         "which /proc does not name in a task of {} threads; cannot checkpoint it",
         pid, t.id(), threads.size());
}

}  // namespace

void PosixTimersCollector::collect(DumpContext& ctx, img::Process& out) {
  pid_t pid = ctx.pid();
  // Without /proc/PID/timers (a kernel without CONFIG_CHECKPOINT_RESTORE) nothing is known.
  auto text = ProcFs::tryReadFile(ProcFs::path(pid, "timers"));
  if (!text || text->empty()) return;
  std::vector<img::PosixTimer> timers;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    std::string v = line.substr(std::min(line.size(), colon + 2));
    if (key == "ID") {
      timers.emplace_back().set_id(static_cast<int32_t>(std::strtol(v.c_str(), nullptr, 10)));
      continue;
    }
    if (timers.empty()) fail("pid {}: unexpected line \"{}\" in /proc/{}/timers", pid, line, pid);
    img::PosixTimer& t = timers.back();
    if (key == "signal") {  // "14/00000000deadbeef": signal number / sigev_value
      size_t slash = v.find('/');
      t.set_signo(static_cast<int32_t>(std::strtol(v.c_str(), nullptr, 10)));
      if (slash != std::string::npos)
        t.set_sigval(std::strtoull(v.c_str() + slash + 1, nullptr, 16));
    } else if (key == "notify") {
      parseNotify(v, t, pid);
    } else if (key == "ClockID") {
      t.set_clockid(static_cast<int32_t>(std::strtol(v.c_str(), nullptr, 10)));
    }
  }
  std::sort(timers.begin(), timers.end(),
            [](const img::PosixTimer& a, const img::PosixTimer& b) { return a.id() < b.id(); });

  std::vector<pid_t> tids = ProcFs::threads(pid);
  std::set<pid_t> threads(tids.begin(), tids.end());
  for (const auto& t : timers) {
    checkClock(t, pid, threads);
    if ((t.notify() & SIGEV_THREAD_ID) && !threads.count(t.notify_tid()))
      fail("pid {}: POSIX timer {} signals thread {}, which is not one of its threads (it has "
           "exited); cannot checkpoint it",
           pid, t.id(), t.notify_tid());
  }

  // Time left and interval: only the task itself can ask (timer IDs are its own).
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  for (size_t first = 0; first < timers.size(); first += kBatch) {
    size_t n = std::min(kBatch, timers.size() - first);
    RemoteScratch& s = ctx.scratch();
    uint64_t bufs = s.alloc(n * sizeof(itimerspec));
    std::vector<RemoteSyscalls::BatchCall> calls(n);
    for (size_t i = 0; i < n; ++i)
      calls[i] = {SYS_timer_gettime,
                  {static_cast<uint64_t>(timers[first + i].id()), bufs + i * sizeof(itimerspec)}};
    rs.callBatch(calls, s.alloc(Registers::kBatchControlSize + n * Registers::kBatchEntrySize));
    std::vector<itimerspec> values(n);
    s.read(bufs, values.data(), n * sizeof(itimerspec));
    for (size_t i = 0; i < n; ++i) {
      img::PosixTimer& t = timers[first + i];
      if (calls[i].result < 0)
        throw SysError(fmt::format("{}: timer_gettime of POSIX timer {}", rs.thread().who(), t.id()),
                       static_cast<int>(-calls[i].result));
      t.set_value_ns(toNs(values[i].it_value));
      t.set_interval_ns(toNs(values[i].it_interval));
    }
  }
  for (auto& t : timers) *out.add_posix_timers() = std::move(t);
}

}  // namespace cryo
