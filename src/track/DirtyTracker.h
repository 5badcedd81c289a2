// DirtyTracker: (placeholder) the interface of dirty-page tracking backends.
#pragma once

namespace cryo {
class DirtyTracker {
 public:
  virtual ~DirtyTracker() = default;
};
}  // namespace cryo
