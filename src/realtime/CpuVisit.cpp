// CpuVisit: runs the calling thread on a task's CPUs while it changes the task's page tables
// (a pre-copy round's re-protecting scan), then back on its own CPUs.
#include "realtime/CpuVisit.h"

#include <cstdlib>
#include <cstring>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/ProcFs.h"

namespace cryo {

bool CpuVisit::enabled() {
  const char* v = std::getenv("CRYO_SCAN_CPU");
  return v == nullptr || std::string_view(v) != "own";
}

CpuVisit::CpuVisit(pid_t pid) {
  if (!enabled()) return;
  cpu_set_t task;
  CPU_ZERO(&own_);
  CPU_ZERO(&task);
  if (::sched_getaffinity(0, sizeof own_, &own_) != 0) return;
  std::vector<pid_t> tids;
  try {
    tids = ProcFs::threads(pid);
  } catch (const Error&) {
    return;  // gone: the collect says so
  }
  for (pid_t tid : tids) {
    cpu_set_t s;
    CPU_ZERO(&s);
    if (::sched_getaffinity(tid, sizeof s, &s) != 0) continue;  // (exited meanwhile)
    int policy = ::sched_getscheduler(tid);
    if (policy >= 0) {
      policy &= ~SCHED_RESET_ON_FORK;
      if (policy == SCHED_FIFO || policy == SCHED_RR || policy == SCHED_DEADLINE) return;
    }
    CPU_OR(&task, &task, &s);
  }
  cpu_set_t both;
  CPU_AND(&both, &own_, &task);
  if (CPU_COUNT(&task) == 0 || CPU_COUNT(&both) != 0) return;
  auto t = std::chrono::steady_clock::now();
  raise(pid);
  if (::sched_setaffinity(0, sizeof task, &task) != 0) {
    spdlog::debug("pid {}: the scan stays on cryo's CPUs: {}", pid, std::strerror(errno));
    lower();
    return;
  }
  moved_ = true;
  arrival_ = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t);
}

void CpuVisit::raise(pid_t pid) {
  int policy = ::sched_getscheduler(0);
  if (policy < 0 || ::sched_getparam(0, &param_) != 0) return;
  policy_ = policy;
  policy &= ~SCHED_RESET_ON_FORK;
  if (policy == SCHED_FIFO || policy == SCHED_RR || policy == SCHED_DEADLINE) return;
  sched_param fifo{};
  fifo.sched_priority = ::sched_get_priority_min(SCHED_FIFO);
  if (::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &fifo) != 0) {
    spdlog::debug("pid {}: the scan visits at cryo's own policy (SCHED_FIFO refused: {})", pid,
                  std::strerror(errno));
    return;
  }
  raised_ = true;
}

void CpuVisit::lower() {
  if (!raised_) return;
  if (::sched_setscheduler(0, policy_, &param_) != 0)
    spdlog::error("cannot give cryo's thread its own scheduling policy back after a scan: {}",
                  std::strerror(errno));
  raised_ = false;
}

CpuVisit::~CpuVisit() {
  if (!moved_) return;
  // Home first: lowered while still on the task's CPU, the thread would wait there again.
  if (::sched_setaffinity(0, sizeof own_, &own_) != 0)
    spdlog::error("cannot move cryo's thread back to its own CPUs after a scan: {}",
                  std::strerror(errno));
  lower();
}

}  // namespace cryo
