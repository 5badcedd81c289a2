// FrozenTarget: a TrackTarget over a task held by a ProcessFreezer, for callers that have no
// dump in progress. Injection and the scratch area are set up on first use and put back (the
// thread's registers, the area unmapped) when the object goes away, before the task is thawed.
#pragma once

#include <memory>
#include <vector>

#include "inject/ProcessFreezer.h"
#include "inject/RemoteMemory.h"
#include "inject/RemoteScratch.h"
#include "inject/RemoteSyscalls.h"
#include "track/TrackTarget.h"

namespace cryo {

class FrozenTarget : public TrackTarget {
 public:
  explicit FrozenTarget(ProcessFreezer& freezer);
  FrozenTarget(const FrozenTarget&) = delete;
  FrozenTarget& operator=(const FrozenTarget&) = delete;
  ~FrozenTarget() override;

  pid_t pid() const override { return freezer_.pid(); }
  const std::vector<MapsEntry>& maps() override { return maps_; }
  RemoteSyscalls& syscalls() override;
  RemoteScratch& scratch() override;
  RemoteMemory& memory() override { return memory_; }

 private:
  ProcessFreezer& freezer_;
  std::vector<MapsEntry> maps_;
  RemoteMemory memory_;
  std::unique_ptr<RemoteSyscalls> syscalls_;
  std::unique_ptr<RemoteScratch> scratch_;  // destroyed first: unmapped through syscalls_
};

}  // namespace cryo
