// EventFdRestorer: eventfd descriptors created again (eventfd2) with their counter and
// semaphore flag.
#pragma once

#include "restore/fds/FdRestorer.h"

namespace cryo {

class EventFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "eventfd"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
};

}  // namespace cryo
