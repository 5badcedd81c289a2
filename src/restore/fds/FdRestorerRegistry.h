// FdRestorerRegistry: the restorers of every kind of fd an image can hold, in the order their
// finish() runs. A new kind of fd is one new FdRestorer listed here (and its FdDumper in
// FdDumperRegistry).
#pragma once

#include <memory>
#include <vector>

#include "restore/fds/FdRestorer.h"

namespace cryo {

class FdRestorerRegistry {
 public:
  // Fresh restorers for one restore (they may keep state across the descriptions).
  static std::vector<std::unique_ptr<FdRestorer>> all();
};

}  // namespace cryo
