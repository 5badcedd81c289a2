// SignalFdRestorer: signalfd descriptors created again (signalfd4) for the same set of
// signals.
#pragma once

#include "restore/fds/FdRestorer.h"

namespace cryo {

class SignalFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "signalfd"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
};

}  // namespace cryo
