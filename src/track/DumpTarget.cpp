// DumpTarget: a TrackTarget over a dump in progress (DumpContext): the dump's mappings, its
// injected syscalls, scratch area and memory access.
#include "track/DumpTarget.h"

#include "dump/DumpContext.h"

namespace cryo {

pid_t DumpTarget::pid() const { return ctx_.pid(); }
const std::vector<MapsEntry>& DumpTarget::maps() { return ctx_.maps(); }
RemoteSyscalls& DumpTarget::syscalls() { return ctx_.leaderSyscalls(); }
RemoteScratch& DumpTarget::scratch() { return ctx_.scratch(); }
RemoteMemory& DumpTarget::memory() { return ctx_.memory(); }

void DumpTarget::settleThreads() {
  for (auto& t : ctx_.freezer().threads())
    if (t->attached()) ctx_.syscalls(t->tid());
}

}  // namespace cryo
