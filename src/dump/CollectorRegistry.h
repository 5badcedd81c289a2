// CollectorRegistry: the ordered list of collectors a dump runs, one per kind of state.
#pragma once

#include <memory>
#include <vector>

#include "dump/Collector.h"

namespace cryo {

class CollectorRegistry {
 public:
  static std::vector<std::unique_ptr<Collector>> all();
};

}  // namespace cryo
