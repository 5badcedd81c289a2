// TrackerFactory: which dirty-page backends this kernel offers (and why not), which one cryo
// picks (uffd-wp > soft-dirty > hash, unless CRYO_TRACKER names one), and creating one by name.
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
  static constexpr const char* kEnv = "CRYO_TRACKER";

  // Every backend, in order of preference.
  static std::vector<BackendStatus> backends();
  static BackendStatus status(const std::string& name);  // throws for an unknown name
  // The backend to use: the one CRYO_TRACKER names (an error if it is unknown or unavailable
  // here), else the best available one.
  static std::string pick();
  // A tracker by name; "" means pick(); "none" means no tracking (returns nullptr: every
  // checkpoint is full). Throws, saying why, for an unknown or unavailable backend.
  static std::unique_ptr<DirtyTracker> create(const std::string& name);

  // For `cryo check`: "uffd-wp: available (userfaultfd WP_ASYNC + PAGEMAP_SCAN)",
  // "soft-dirty: unavailable (...)", "hash: available (...)", "picked: uffd-wp".
  static std::vector<std::string> reportLines();
  static std::string report();  // the lines, each ended by '\n'
};

}  // namespace cryo
