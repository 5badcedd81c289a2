// MemfdFdRestorer: memfd descriptors: the shared memory object made once per tree (or received
// from the process that made it, e.g. for a mapping of it), its data written back, its seals
// applied once every fd of the process exists.
#pragma once

#include <utility>
#include <vector>

#include "restore/fds/FdRestorer.h"

namespace cryo {

class MemfdFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "memfd"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
  void finish(FdInstaller& inst) override;

 private:
  std::vector<std::pair<int, const img::FileDescription*>> sealed_;  // cryo's copy, description
};

}  // namespace cryo
