// InheritedFdRestorer: standard streams that were connected outside the task (a terminal, a
// pipe or socket to another process) become the restoring cryo's own stream of that number.
#pragma once

#include "restore/fds/FdRestorer.h"

namespace cryo {

class InheritedFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "inherited"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
};

}  // namespace cryo
