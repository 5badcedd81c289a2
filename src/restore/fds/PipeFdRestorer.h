// PipeFdRestorer: anonymous pipes with both ends in the tree: one pipe per saved pipe inode,
// sized as it was and refilled with its buffered bytes; each description, in whichever
// process, gets its end (cryo holds both, see TreeFiles).
#pragma once

#include <cstdint>
#include <string>

#include "restore/fds/FdRestorer.h"

namespace cryo {

class PipeFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "pipe"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;

 private:
  static void writeAll(int fd, const std::string& data, const std::string& who);
};

}  // namespace cryo
