// LiveTarget: a TrackTarget over a task that is running (not frozen), for the collects of
// bounded-freeze checkpoints made while the task runs: its mappings are read now, its memory
// is reachable, but nothing can be injected into it.
#pragma once

#include <utility>
#include <vector>

#include "inject/RemoteMemory.h"
#include "track/TrackTarget.h"

namespace cryo {

class LiveTarget : public TrackTarget {
 public:
  explicit LiveTarget(pid_t pid);
  // With an earlier smaps listing: the cheap maps listing, VmFlags taken from `hint` for the
  // mappings that did not change (see ProcFs::mapsWithFlagsFrom).
  // `exclude` ([start, end), may be empty): cryo's own mappings in the task, kept out of maps().
  LiveTarget(pid_t pid, const std::vector<MapsEntry>& hint,
             std::pair<uint64_t, uint64_t> exclude = {0, 0});
  // Over `listing` as it is, nothing read: for a task frozen since that listing was taken, or
  // for a caller that checks afterwards that the listing still holds.
  struct AsListed {};
  LiveTarget(pid_t pid, AsListed, const std::vector<MapsEntry>& listing,
             std::pair<uint64_t, uint64_t> exclude = {0, 0});

  pid_t pid() const override { return pid_; }
  // The mappings as smaps shows them when the target was made (the task may change them
  // at any moment; a tracker copes with ranges that went away or were replaced).
  const std::vector<MapsEntry>& maps() override { return maps_; }
  // Every mapping, cryo's own included (an exact listing to reuse as a hint).
  const std::vector<MapsEntry>& allMaps() const { return all_; }
  // A running task cannot execute injected syscalls: these throw.
  RemoteSyscalls& syscalls() override;
  RemoteScratch& scratch() override;
  RemoteMemory& memory() override { return memory_; }

 private:
  pid_t pid_;
  std::vector<MapsEntry> all_, maps_;
  RemoteMemory memory_;
};

}  // namespace cryo
