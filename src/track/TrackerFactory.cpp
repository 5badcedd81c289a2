// TrackerFactory: which dirty-page backends this kernel offers, which one cryo picks, and the
// creation of one by name (CRYO_TRACKER or --tracker force a choice).
#include "track/TrackerFactory.h"

#include <cstdlib>
#include <sstream>

#include "common/Error.h"
#include "track/HashTracker.h"
#include "track/SoftDirtyTracker.h"
#include "track/UffdWpTracker.h"

namespace cryo {

std::vector<BackendStatus> TrackerFactory::backends() {
  std::vector<BackendStatus> out;
  BackendStatus u{"uffd-wp"};
  u.available = UffdWpTracker::available(u.detail);
  out.push_back(u);
  BackendStatus s{"soft-dirty"};
  s.available = SoftDirtyTracker::available(s.detail);
  out.push_back(s);
  out.push_back({"hash", true, "XXH3 of every page compared with the previous checkpoint"});
  return out;
}

std::unique_ptr<DirtyTracker> TrackerFactory::create(const std::string& requested) {
  std::string name = requested;
  if (name.empty())
    if (const char* env = std::getenv("CRYO_TRACKER")) name = env;
  if (name == "none") return nullptr;
  for (const auto& b : backends()) {
    if (!name.empty() && b.name != name) continue;
    if (!b.available) {
      if (name.empty()) continue;
      fail("dirty-page backend {} is not available here: {}", name, b.detail);
    }
    if (b.name == "uffd-wp") return std::make_unique<UffdWpTracker>();
    if (b.name == "soft-dirty") return std::make_unique<SoftDirtyTracker>();
    return std::make_unique<HashTracker>();
  }
  fail("unknown dirty-page backend '{}' (uffd-wp, soft-dirty, hash, none)", name);
}

std::string TrackerFactory::report() {
  std::ostringstream o;
  std::string picked;
  for (const auto& b : backends()) {
    o << b.name << ": " << (b.available ? "available" : "unavailable") << " (" << b.detail
      << ")\n";
    if (b.available && picked.empty()) picked = b.name;
  }
  o << "picked: " << picked << "\n";
  return o.str();
}

}  // namespace cryo
