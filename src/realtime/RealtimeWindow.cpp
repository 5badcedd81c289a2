// RealtimeWindow: a scoped SCHED_FIFO priority for the calling thread (cryo's freeze window).
#include "realtime/RealtimeWindow.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "common/Error.h"

namespace cryo {

namespace {
void raise(int priority) {
  sched_param p{};
  p.sched_priority = priority;
  if (::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) != 0)
    failErrno("cannot run cryo's freeze at real-time priority {} (SCHED_FIFO; needs root or "
              "CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least {})",
              priority, priority);
}
}  // namespace

void RealtimeWindow::check(int priority) {
  if (priority == 0) return;
  int lo = ::sched_get_priority_min(SCHED_FIFO), hi = ::sched_get_priority_max(SCHED_FIFO);
  if (priority < lo || priority > hi)
    fail("--freeze-priority {} is out of range ({} to {})", priority, lo, hi);
  RealtimeWindow probe(priority);
}

int RealtimeWindow::forTask(pid_t pid, int priority) {
  if (priority == 0) return 0;
  cpu_set_t own, task;
  CPU_ZERO(&own);
  CPU_ZERO(&task);
  if (::sched_getaffinity(0, sizeof own, &own) != 0 ||
      ::sched_getaffinity(pid, sizeof task, &task) != 0)
    return 0;
  CPU_AND(&own, &own, &task);
  if (CPU_COUNT(&own) == 0) return priority;
  static bool warned = false;
  if (!std::exchange(warned, true))
    spdlog::warn("pid {}: --freeze-priority not applied: cryo may run on the task's CPUs (give "
                 "cryo CPUs of its own with --cpu)",
                 pid);
  return 0;
}

int RealtimeWindow::current() {
  sched_param p{};
  int policy = ::sched_getscheduler(0);
  if (policy < 0 || (policy & ~SCHED_RESET_ON_FORK) != SCHED_FIFO || ::sched_getparam(0, &p) != 0)
    return 0;
  return p.sched_priority;
}

RealtimeWindow::RealtimeWindow(int priority) {
  if (priority == 0) return;
  policy_ = ::sched_getscheduler(0);
  if (policy_ < 0) failErrno("cannot read cryo's scheduling policy");
  policy_ &= ~SCHED_RESET_ON_FORK;
  if (::sched_getparam(0, &param_) != 0) failErrno("cannot read cryo's scheduling priority");
  raise(priority);
  raised_ = true;
}

RealtimeWindow::~RealtimeWindow() {
  if (!raised_) return;
  if (::sched_setscheduler(0, policy_, &param_) != 0)
    spdlog::error("cannot put cryo's scheduling policy back after a freeze: {}",
                  std::strerror(errno));
}

}  // namespace cryo
