// FileFdRestorer: descriptions reopened by path: regular files and directories at their
// offset, character devices, FIFOs (with their buffered bytes), and files and FIFOs deleted
// while open, made again (DeletedFileMaker) and reopened at their offset.
#pragma once

#include <string>

#include "restore/fds/FdRestorer.h"

namespace cryo {

class FileFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "file"; }
  bool handles(img::FileDescription::Kind kind) const override;
  void validate(RestoreContext& ctx, const img::FileDescription& d) override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
};

}  // namespace cryo
