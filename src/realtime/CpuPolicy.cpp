// CpuPolicy: cryo's own CPU placement and priority (--cpu, --nice).
#include "realtime/CpuPolicy.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "common/Error.h"

namespace cryo {

std::vector<int> CpuPolicy::parseCpuList(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string part;
  long ncpu = ::sysconf(_SC_NPROCESSORS_CONF);
  while (std::getline(in, part, ',')) {
    size_t dash = part.find('-');
    char* end = nullptr;
    long a = std::strtol(part.c_str(), &end, 10);
    long b = a;
    bool ok = !part.empty() && end != part.c_str();
    if (ok && dash != std::string::npos) {
      b = std::strtol(part.c_str() + dash + 1, &end, 10);
      ok = *end == '\0' && b >= a;
    } else {
      ok = ok && *end == '\0';
    }
    if (!ok || a < 0) fail("invalid CPU list '{}' (examples: 1, 0,2, 2-3)", text);
    if (b >= ncpu) fail("CPU {} does not exist (this machine has {} CPUs)", b, ncpu);
    for (long c = a; c <= b; ++c) out.push_back(static_cast<int>(c));
  }
  if (out.empty()) fail("invalid CPU list '{}' (examples: 1, 0,2, 2-3)", text);
  return out;
}

CpuPolicy::CpuPolicy(const std::string& cpus, std::optional<int> nice) : nice_(nice) {
  if (!cpus.empty()) cpus_ = parseCpuList(cpus);
  if (nice_ && (*nice_ < -20 || *nice_ > 19)) fail("--nice {} is out of range (-20 to 19)", *nice_);
}

void CpuPolicy::apply() {
  if (!cpus_.empty()) {
    CPU_ZERO(&originalSet_);
    if (::sched_getaffinity(0, sizeof originalSet_, &originalSet_) != 0)
      failErrno("cannot read cryo's CPU affinity");
    haveOriginalSet_ = true;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus_) CPU_SET(c, &set);
    // A task cryo starts runs on the CPUs cryo had but does not take, when there are any: a
    // freeze then never waits for the task's CPU, and --freeze-priority can apply.
    cpu_set_t left;
    CPU_XOR(&left, &originalSet_, &set);
    CPU_AND(&left, &left, &originalSet_);
    taskSet_ = CPU_COUNT(&left) > 0 ? left : originalSet_;
    if (::sched_setaffinity(0, sizeof set, &set) != 0)
      failErrno("cannot run cryo on the CPUs given with --cpu");
  }
  if (nice_) {
    errno = 0;
    originalNice_ = ::getpriority(PRIO_PROCESS, 0);
    if (errno != 0) failErrno("cannot read cryo's priority");
    if (::setpriority(PRIO_PROCESS, 0, *nice_) != 0) failErrno("cannot set cryo's --nice {}", *nice_);
  }
}

void CpuPolicy::undoInChild() const {
  // Async-signal-safe calls only (between fork and exec); failures leave the child as cryo.
  if (haveOriginalSet_) ::sched_setaffinity(0, sizeof taskSet_, &taskSet_);
  if (nice_) ::setpriority(PRIO_PROCESS, 0, originalNice_);
}

}  // namespace cryo
