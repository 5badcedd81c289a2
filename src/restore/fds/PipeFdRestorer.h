// PipeFdRestorer: anonymous pipes with both ends in the task: one pipe per saved pipe inode,
// sized as it was and refilled with its buffered bytes; each description gets its end.
#pragma once

#include <cstdint>
#include <map>
#include <utility>

#include "restore/fds/FdRestorer.h"

namespace cryo {

class PipeFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "pipe"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
  // Closes the pipe ends held while the descriptions were installed.
  void finish(FdInstaller& inst) override;

 private:
  std::map<uint64_t, std::pair<int, int>> pipes_;  // pipe inode -> (read end, write end)
};

}  // namespace cryo
