// DumpTarget: a TrackTarget over a dump in progress (DumpContext): the dump's mappings, its
// injected syscalls, scratch area and memory access.
#pragma once

#include "track/TrackTarget.h"

namespace cryo {

class DumpContext;

class DumpTarget : public TrackTarget {
 public:
  explicit DumpTarget(DumpContext& ctx) : ctx_(ctx) {}

  pid_t pid() const override;
  const std::vector<MapsEntry>& maps() override;
  RemoteSyscalls& syscalls() override;
  RemoteScratch& scratch() override;
  RemoteMemory& memory() override;

  // Settles every thread (a signal that was due is delivered now, its handler runs and is
  // frozen again) so that the task runs none of its own code between a collect and the copy
  // of its memory: a handler's writes then belong to this checkpoint, not to the next one.
  void settleThreads();

 private:
  DumpContext& ctx_;
};

}  // namespace cryo
