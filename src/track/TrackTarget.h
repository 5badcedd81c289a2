// TrackTarget: what a dirty-page tracker needs from a frozen task: its pid, its mappings as
// smaps shows them (with VmFlags), injected syscalls in its main thread, a scratch area for
// syscall arguments and access to its memory. Valid only while the task is frozen.
#pragma once

#include <sys/types.h>

#include <vector>

#include "common/ProcFs.h"

namespace cryo {

class RemoteMemory;
class RemoteScratch;
class RemoteSyscalls;

class TrackTarget {
 public:
  virtual ~TrackTarget() = default;
  virtual pid_t pid() const = 0;
  // The task's mappings, read after it was frozen and before anything was mapped into it.
  virtual const std::vector<MapsEntry>& maps() = 0;
  // Injected syscalls in the main thread (the first use settles the thread).
  virtual RemoteSyscalls& syscalls() = 0;
  // Argument memory inside the task (mapped on first use; not one of maps()).
  virtual RemoteScratch& scratch() = 0;
  virtual RemoteMemory& memory() = 0;
};

}  // namespace cryo
