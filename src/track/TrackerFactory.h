// TrackerFactory: which dirty-page backends this kernel offers, which one cryo picks, and the
// creation of one by name (CRYO_TRACKER or --tracker force a choice).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "track/DirtyTracker.h"

namespace cryo {

struct BackendStatus {
  std::string name;
  bool available = false;
  std::string detail;  // what it uses, or why it is unavailable
};

class TrackerFactory {
 public:
  static std::vector<BackendStatus> backends();  // in order of preference
  // "" (or unset CRYO_TRACKER): the best available; "none": no tracking (full checkpoints).
  // Returns nullptr for "none"; throws when the named backend is unknown or unavailable.
  static std::unique_ptr<DirtyTracker> create(const std::string& name);
  static std::string report();  // `cryo check`
};

}  // namespace cryo
