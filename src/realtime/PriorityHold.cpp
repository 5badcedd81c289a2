// PriorityHold: a frozen task's threads at SCHED_FIFO for the freeze, their own policies restored.
#include "realtime/PriorityHold.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/Error.h"

namespace cryo {

namespace {

long getAttr(pid_t tid, cryo_sched_attr& a) {
  a = cryo_sched_attr{};
  return ::syscall(SYS_sched_getattr, tid, &a, sizeof a, 0);
}

long setAttr(pid_t tid, cryo_sched_attr a) {
  a.size = sizeof a;
  return ::syscall(SYS_sched_setattr, tid, &a, 0);
}

}  // namespace

void PriorityHold::hold(pid_t tid) {
  if (original_.count(tid)) return;
  cryo_sched_attr own;
  if (getAttr(tid, own) != 0) {
    spdlog::debug("tid {}: policy unreadable, left as it is: {}", tid, std::strerror(errno));
    return;
  }
  bool realtime = own.sched_policy == SCHED_FIFO || own.sched_policy == SCHED_RR;
  if (own.sched_policy == SCHED_DEADLINE ||
      (realtime && own.sched_priority >= static_cast<__u32>(priority_)))
    return;
  cryo_sched_attr raised{};
  raised.sched_policy = SCHED_FIFO;
  raised.sched_priority = static_cast<__u32>(priority_);
  if (setAttr(tid, raised) != 0) {
    spdlog::debug("tid {}: not raised to SCHED_FIFO {}: {}", tid, priority_, std::strerror(errno));
    return;
  }
  original_[tid] = own;
}

PriorityHold::~PriorityHold() {
  try {
    release();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
  }
}

void PriorityHold::release() {
  std::string failed;
  for (auto& [tid, own] : original_) {
    cryo_sched_attr back = own;
    back.sched_flags &= 0x01;  // SCHED_FLAG_RESET_ON_FORK (the clamps were not changed)
    if (setAttr(tid, back) == 0 || errno == ESRCH) continue;
    failed += fmt::format("{}tid {} ({})", failed.empty() ? "" : ", ", tid, std::strerror(errno));
  }
  original_.clear();
  if (!failed.empty()) fail("cannot give the task's threads back their scheduling policy: {}", failed);
}

std::optional<cryo_sched_attr> PriorityHold::original(pid_t tid) const {
  auto it = original_.find(tid);
  if (it == original_.end()) return std::nullopt;
  return it->second;
}

}  // namespace cryo
