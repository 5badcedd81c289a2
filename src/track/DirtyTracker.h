// DirtyTracker: the interface of dirty-page tracking backends: which pages of a task were
// written since the previous checkpoint. All calls happen while the task is frozen.
#pragma once

#include <string_view>

#include "dump/PageSelection.h"

namespace cryo {

class DumpContext;
struct MapsEntry;

class DirtyTracker {
 public:
  virtual ~DirtyTracker() = default;
  virtual std::string_view name() const = 0;
  // After a full checkpoint captured memory: record writes from now on.
  virtual void arm(DumpContext& ctx) = 0;
  // At the next checkpoint: the ranges written since arm() or the previous changed() (plus
  // whole mappings that are not tracked yet: new, grown or moved ones), re-armed atomically.
  virtual PageRanges changed(DumpContext& ctx) = 0;
  // After an incremental checkpoint captured memory: start tracking mappings not tracked yet.
  virtual void trackNew(DumpContext& ctx) = 0;

  // Mappings whose pages a checkpoint may store, hence that need tracking.
  static bool trackable(const MapsEntry& m);
};

}  // namespace cryo
