// DirtyTracker: the interface of dirty-page tracking backends: which pages of a task were
// written since the previous checkpoint. All calls happen while the task is frozen.
#include "track/DirtyTracker.h"

#include "common/ProcFs.h"

namespace cryo {

bool DirtyTracker::trackable(const MapsEntry& m) {
  if (!m.path.empty() && m.path[0] == '[') {
    return m.path == "[heap]" || m.path == "[stack]" || m.path.rfind("[anon:", 0) == 0;
  }
  if (m.shared) return m.path.rfind("/dev/zero", 0) == 0;  // shared anonymous
  // Private mappings: anonymous ones, and file mappings whose pages may be copied on write.
  return m.write || m.path.empty() || m.hasFlag("mw");
}

}  // namespace cryo
