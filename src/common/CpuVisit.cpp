// CpuVisit: runs the calling thread on a task's CPUs while it changes the task's page tables
// (a pre-copy round's re-protecting scan), then back on its own CPUs.
#include "common/CpuVisit.h"

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
  if (::sched_setaffinity(0, sizeof task, &task) != 0) {
    spdlog::debug("pid {}: the scan stays on cryo's CPUs: {}", pid, std::strerror(errno));
    return;
  }
  moved_ = true;
  arrival_ = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t);
}

CpuVisit::~CpuVisit() {
  if (!moved_) return;
  if (::sched_setaffinity(0, sizeof own_, &own_) != 0)
    spdlog::error("cannot move cryo's thread back to its own CPUs after a scan: {}",
                  std::strerror(errno));
}

}  // namespace cryo
