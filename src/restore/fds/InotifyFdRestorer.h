// InotifyFdRestorer: inotify instances created again with every watch on its path and mask,
// under its saved watch descriptor (holes left by removed watches reproduced with placeholder
// watches added and removed).
#pragma once

#include "restore/fds/FdRestorer.h"

namespace cryo {

class InotifyFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "inotify"; }
  bool handles(img::FileDescription::Kind kind) const override;
  void validate(RestoreContext& ctx, const img::FileDescription& d) override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
};

}  // namespace cryo
