// ProcessFreezer: holds every thread of one process frozen under ptrace, none running while
// another is inspected; lets them all run on (or dies with them held) when released.
#include "inject/ProcessFreezer.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/ProcFs.h"

namespace cryo {

ProcessFreezer::ProcessFreezer(pid_t pid, const Tracee::SlowToStop& slowToStop) : pid_(pid) {
  if (pid <= 0) fail("invalid pid {}", pid);
  if (!ProcFs::exists(pid)) fail("no process with pid {}", pid);
  ProcStat st = ProcFs::stat(pid);
  if (st.state == 'Z') fail("pid {} ({}) is a zombie: nothing to checkpoint", pid, st.comm);
  auto status = ProcFs::status(ProcFs::path(pid, "status"));
  if (status["Tgid"] != std::to_string(pid))
    fail("pid {} is a thread of process {}, not a process; name the process", pid,
         status["Tgid"]);
  if (status["TracerPid"] != "0")
    fail("pid {} ({}) is already traced by pid {}", pid, st.comm, status["TracerPid"]);

  frozenAt_ = std::chrono::steady_clock::now();
  std::set<pid_t> seen;
  // Seize threads until a listing shows no thread we do not hold: held threads are frozen and
  // cannot create new ones, so this converges.
  for (int round = 0;; ++round) {
    bool added = false;
    std::vector<pid_t> tids;
    try {
      tids = ProcFs::threads(pid);
    } catch (const Error&) {
      fail("pid {} exited while being frozen", pid);
    }
    for (pid_t tid : tids) {
      if (seen.count(tid)) continue;
      seen.insert(tid);
      std::unique_ptr<Tracee> t;
      try {
        t = std::make_unique<Tracee>(tid, PTRACE_O_TRACESYSGOOD);
      } catch (const SysError& e) {
        if (e.code() == ESRCH) continue;  // the thread exited meanwhile
        throw;
      }
      t->freeze(slowToStop);
      threads_.push_back(std::move(t));
      added = true;
    }
    if (!added) break;
    if (round > 10000) fail("pid {}: threads keep appearing, cannot freeze", pid);
  }
  if (threads_.empty() || threads_.front()->tid() != pid)
    fail("pid {}: the main thread could not be frozen", pid);
  for (const auto& t : threads_)
    if (t->groupStopSignal() != 0) {
      stopSignal_ = t->groupStopSignal();
      break;
    }
  // frozenAt_ stays the moment the first thread was seized: the task's frozen time counts
  // from there.
  heldAt_ = std::chrono::steady_clock::now();
}

ProcessFreezer::~ProcessFreezer() {
  // Unique_ptr<Tracee> destructors detach; threads run on.
}

void ProcessFreezer::thaw() {
  for (auto& t : threads_) t->detach();
}

void ProcessFreezer::kill() {
  ::kill(pid_, SIGKILL);
  // A traced thread reports its death to us. The leader reports last: it cannot be reaped
  // before the other threads of its group are, so wait for those first.
  for (size_t i = threads_.size(); i-- > 0;) {
    Tracee& t = *threads_[i];
    if (!t.attached()) continue;
    int status;
    while (::waitpid(t.tid(), &status, __WALL) < 0 && errno == EINTR) {
    }
    t.markGone();
  }
}

}  // namespace cryo
