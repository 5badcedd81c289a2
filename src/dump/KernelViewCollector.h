// KernelViewCollector: records what the kernel shows of the frozen process (verify/KernelView)
// in the image, for `cryo restore --verify` to compare the restored process with.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class KernelViewCollector : public Collector {
 public:
  std::string_view name() const override { return "kernel view"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
