// CpuHold: a frozen task's threads on cryo's CPUs for the freeze, their own CPU lists restored.
#include "realtime/CpuHold.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/ProcFs.h"

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

void CpuHold::holdBorn(pid_t tid, const std::vector<pid_t>& creators, uint64_t bornSinceTicks) {
  if (original_.count(tid)) return;
  cpu_set_t now;
  CPU_ZERO(&now);
  if (::sched_getaffinity(tid, sizeof now, &now) != 0 || !CPU_EQUAL(&now, &cpus_))
    return hold(tid);
  for (pid_t c : creators) {
    auto it = original_.find(c);
    if (it == original_.end() || CPU_EQUAL(&it->second, &cpus_)) continue;
    uint64_t born = 0;
    try {
      born = ProcFs::stat(tid).startTime;
    } catch (const Error&) {
      break;  // gone: nothing to give back
    }
    if (born < bornSinceTicks) break;  // older than the freeze: its own list is cryo's CPUs
    spdlog::debug("tid {}: born during the freeze with cryo's CPUs (from tid {}, moved to "
                  "stop): gets tid {}'s own CPU list back at the release",
                  tid, c, c);
    original_[tid] = it->second;
    return;
  }
  hold(tid);
}

uint64_t CpuHold::ticksNow() {
  timespec t{};
  ::clock_gettime(CLOCK_BOOTTIME, &t);
  auto hz = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  return static_cast<uint64_t>(t.tv_sec) * hz +
         static_cast<uint64_t>(t.tv_nsec) * hz / 1000000000ULL;
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
