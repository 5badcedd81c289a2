// CpuHold: a frozen task's threads on cryo's CPUs for the freeze, their own CPU lists restored.
#include "realtime/CpuHold.h"

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/Error.h"

namespace cryo {

CpuHold::CpuHold(const std::vector<pid_t>& tids, const cpu_set_t& cpus) : cpus_(cpus) {
  for (pid_t tid : tids) hold(tid);
}

CpuHold::CpuHold(CpuHold&& o) noexcept : cpus_(o.cpus_), original_(std::move(o.original_)) {
  o.original_.clear();
}

void CpuHold::hold(pid_t tid) {
  if (original_.count(tid)) return;
  cpu_set_t own;
  CPU_ZERO(&own);
  if (::sched_getaffinity(tid, sizeof own, &own) != 0) {
    spdlog::debug("tid {}: CPU list unreadable, left in place: {}", tid, std::strerror(errno));
    return;
  }
  if (::sched_setaffinity(tid, sizeof cpus_, &cpus_) != 0) {
    spdlog::debug("tid {}: not moved onto cryo's CPUs: {}", tid, std::strerror(errno));
    return;
  }
  original_[tid] = own;
}

CpuHold::~CpuHold() {
  try {
    release();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
  }
}

void CpuHold::release() {
  std::string failed;
  for (auto& [tid, own] : original_) {
    if (::sched_setaffinity(tid, sizeof own, &own) == 0 || errno == ESRCH) continue;
    failed += fmt::format("{}tid {} ({})", failed.empty() ? "" : ", ", tid, std::strerror(errno));
  }
  original_.clear();
  if (!failed.empty()) fail("cannot give the task's threads back their CPU lists: {}", failed);
}

std::optional<cpu_set_t> CpuHold::original(pid_t tid) const {
  auto it = original_.find(tid);
  if (it == original_.end()) return std::nullopt;
  return it->second;
}

std::optional<cpu_set_t> CpuHold::disjointCpus(pid_t pid) {
  cpu_set_t own, task, both;
  CPU_ZERO(&own);
  CPU_ZERO(&task);
  if (::sched_getaffinity(0, sizeof own, &own) != 0 ||
      ::sched_getaffinity(pid, sizeof task, &task) != 0)
    return std::nullopt;
  CPU_AND(&both, &own, &task);
  if (CPU_COUNT(&both) != 0) return std::nullopt;
  return own;
}

}  // namespace cryo
