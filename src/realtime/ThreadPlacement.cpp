// ThreadPlacement: one thread's CPUs and policy, given to another.
#include "realtime/ThreadPlacement.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace cryo {

ThreadPlacement ThreadPlacement::ofCallingThread() {
  ThreadPlacement p;
  CPU_ZERO(&p.cpus_);
  p.haveCpus_ = ::sched_getaffinity(0, sizeof p.cpus_, &p.cpus_) == 0;
  int policy = ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
  p.policy_ = policy == SCHED_FIFO || policy == SCHED_RR || policy < 0 ? SCHED_OTHER : policy;
  errno = 0;
  int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));  // per thread on Linux
  p.nice_ = errno == 0 ? nice : 0;
  return p;
}

bool ThreadPlacement::applyToCallingThread() const {
  bool ok = true;
  if (haveCpus_ && ::sched_setaffinity(0, sizeof cpus_, &cpus_) != 0) ok = false;
  sched_param param{};
  if (::sched_setscheduler(0, policy_, &param) != 0) ok = false;
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice_) != 0) ok = false;
  return ok;
}

}  // namespace cryo
