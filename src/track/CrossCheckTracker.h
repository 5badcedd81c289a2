// CrossCheckTracker: a dirty-page backend checked against page hashes (CRYO_CROSSCHECK=1): at
// every collect of a frozen task, each page whose contents changed since the previous frozen
// collect must be among the pages the backend reported since then, rounds of a running task
// included. A page it missed is a write the backend lost: the collect fails, naming it.
#pragma once

#include <memory>
#include <vector>

#include "track/DirtyTracker.h"
#include "track/HashTracker.h"

namespace cryo {

class CrossCheckTracker : public DirtyTracker {
 public:
  explicit CrossCheckTracker(std::unique_ptr<DirtyTracker> checked);
  // Whether CRYO_CROSSCHECK asks for the check.
  static bool wanted();

  std::string_view name() const override { return checked_->name(); }
  bool collectsWhileRunning() const override { return checked_->collectsWhileRunning(); }
  uint64_t flagsGeneration() const override { return checked_->flagsGeneration(); }

 protected:
  void doArm(TrackTarget& target) override;
  DirtySet doCollect(TrackTarget& target) override;
  bool collectInjects(TrackTarget& target) override;

 private:
  // Every thread of the task is in a ptrace stop: its memory holds still for the hashes.
  static bool frozen(pid_t pid);
  // Pages of `changed` not reported that held no data at the last frozen collect (`held`) and
  // hold only zeros: nothing written to them yet.
  DirtySet populatedWithZeros(TrackTarget& target, const DirtySet& changed,
                              const std::vector<uint64_t>& held);
  // Fails naming the pages that changed without being reported, and their mappings.
  void compare(TrackTarget& target, const DirtySet& changed) const;

  std::unique_ptr<DirtyTracker> checked_;
  HashTracker hashes_;
  uint64_t frozenCollects_ = 0;
  DirtySet reported_;  // what the backend reported since the last frozen collect
};

}  // namespace cryo
