// UffdWpTracker: dirty-page tracking with userfaultfd write-protection in asynchronous mode
// (the kernel resolves the faults itself, the task never waits) read and re-armed atomically
// with the PAGEMAP_SCAN ioctl. Works on arm64 as on x86_64; needs no soft-dirty bits.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/UniqueFd.h"
#include "track/DirtyTracker.h"

namespace cryo {

class UffdWpTracker : public DirtyTracker {
 public:
  std::string_view name() const override { return "uffd-wp"; }
  void arm(DumpContext& ctx) override;
  PageRanges changed(DumpContext& ctx) override;
  void trackNew(DumpContext& ctx) override;

  // Whether this kernel offers what the tracker needs; `why` says what is missing.
  static bool available(std::string& why);

 private:
  void open(DumpContext& ctx);
  void protect(DumpContext& ctx, uint64_t start, uint64_t end);
  pid_t pid_ = 0;
  UniqueFd uffd_;
  UniqueFd pagemap_;
};

}  // namespace cryo
