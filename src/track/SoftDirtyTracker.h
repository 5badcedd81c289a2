// SoftDirtyTracker: dirty-page tracking with the kernel's soft-dirty bits (clear_refs +
// pagemap bit 55), where the kernel has them (x86_64, powerpc64, s390 with
// CONFIG_MEM_SOFT_DIRTY; never arm64).
#pragma once

#include "track/DirtyTracker.h"

namespace cryo {

class SoftDirtyTracker : public DirtyTracker {
 public:
  std::string_view name() const override { return "soft-dirty"; }
  void arm(DumpContext& ctx) override;
  PageRanges changed(DumpContext& ctx) override;
  void trackNew(DumpContext& ctx) override {}

  static bool available(std::string& why);
};

}  // namespace cryo
