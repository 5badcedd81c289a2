// RestorerRegistry: the ordered list of restorers a restore runs, one per kind of state.
#pragma once

#include <memory>
#include <vector>

#include "restore/Restorer.h"

namespace cryo {

class RestorerRegistry {
 public:
  static std::vector<std::unique_ptr<Restorer>> all();
};

}  // namespace cryo
