// FdDumperRegistry: the dumpers of every kind of fd cryo can checkpoint, in the order they
// are asked to claim an fd. A new kind of fd is one new FdDumper listed here (and its
// FdRestorer in FdRestorerRegistry).
#pragma once

#include <memory>
#include <vector>

#include "dump/fds/FdDumper.h"

namespace cryo {

class FdDumperRegistry {
 public:
  // Fresh dumpers for one dump (they may keep state across the fds of one task).
  static std::vector<std::unique_ptr<FdDumper>> all();
};

}  // namespace cryo
