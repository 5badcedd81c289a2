// TimerFdRestorer: timerfd descriptors created again on their clock and re-armed with the
// time that was left at the dump, their interval and their unread expirations.
#pragma once

#include "restore/fds/FdRestorer.h"

namespace cryo {

class TimerFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "timerfd"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
};

}  // namespace cryo
