// SoftDirtyTracker: dirty-page tracking with the kernel's soft-dirty bits (clear_refs "4",
// bit 55 of /proc/PID/pagemap), where the kernel has them (CONFIG_MEM_SOFT_DIRTY: x86_64,
// powerpc64, s390, riscv; never arm64).
#pragma once

#include <sys/types.h>

#include <string>

#include "track/DirtyTracker.h"

namespace cryo {

class SoftDirtyTracker : public DirtyTracker {
 public:
  std::string_view name() const override { return "soft-dirty"; }
  static bool available(std::string& why);

 protected:
  void doArm(TrackTarget& target) override;
  DirtySet doCollect(TrackTarget& target) override;

 private:
  DirtySet sweep(TrackTarget& target, bool report);
  pid_t pid_ = 0;
  DirtySet tracked_;    // the tracked mappings at the last sweep
  DirtySet populated_;  // pages that held data at the last sweep
};

}  // namespace cryo
