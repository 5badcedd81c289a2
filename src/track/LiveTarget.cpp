// LiveTarget: a TrackTarget over a running task: mappings read now, memory reachable, no
// injection.
#include "track/LiveTarget.h"

#include "common/Error.h"

namespace cryo {

LiveTarget::LiveTarget(pid_t pid) : pid_(pid), maps_(ProcFs::maps(pid, true)), memory_(pid) {}

LiveTarget::LiveTarget(pid_t pid, const std::vector<MapsEntry>& hint)
    : pid_(pid),
      maps_(hint.empty() ? ProcFs::maps(pid, true) : ProcFs::mapsWithFlagsFrom(pid, hint)),
      memory_(pid) {}

RemoteSyscalls& LiveTarget::syscalls() {
  fail("pid {}: a running task cannot execute injected syscalls (the tracker needs it frozen)",
       pid_);
}

RemoteScratch& LiveTarget::scratch() {
  fail("pid {}: a running task has no injection scratch area (the tracker needs it frozen)",
       pid_);
}

}  // namespace cryo
