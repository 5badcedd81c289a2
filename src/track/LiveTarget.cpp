// LiveTarget: a TrackTarget over a running task: mappings read now, memory reachable, no
// injection.
#include "track/LiveTarget.h"

#include "common/Error.h"

namespace cryo {

LiveTarget::LiveTarget(pid_t pid)
    : pid_(pid), all_(ProcFs::maps(pid, true)), maps_(all_), memory_(pid) {}

LiveTarget::LiveTarget(pid_t pid, const std::vector<MapsEntry>& hint,
                       std::pair<uint64_t, uint64_t> exclude)
    : LiveTarget(pid, AsListed{},
                 hint.empty() ? ProcFs::maps(pid, true) : ProcFs::mapsWithFlagsFrom(pid, hint),
                 exclude) {}

LiveTarget::LiveTarget(pid_t pid, AsListed, const std::vector<MapsEntry>& listing,
                       std::pair<uint64_t, uint64_t> exclude)
    : pid_(pid), all_(listing), memory_(pid) {
  for (const MapsEntry& m : all_)
    if (!(m.start >= exclude.first && m.end <= exclude.second)) maps_.push_back(m);
}

RemoteSyscalls& LiveTarget::syscalls() {
  fail("pid {}: a running task cannot execute injected syscalls (the tracker needs it frozen)",
       pid_);
}

RemoteScratch& LiveTarget::scratch() {
  fail("pid {}: a running task has no injection scratch area (the tracker needs it frozen)",
       pid_);
}

}  // namespace cryo
