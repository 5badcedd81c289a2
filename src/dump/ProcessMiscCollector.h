// ProcessMiscCollector: process-wide odds and ends (umask, cwd, root, personality, interval
// timers, rlimits, prctl flags) and the refusal of what cryo cannot restore yet (child
// processes, foreign namespaces, seccomp filters).
#pragma once

#include "dump/Collector.h"

namespace cryo {

class ProcessMiscCollector : public Collector {
 public:
  std::string_view name() const override { return "process"; }
  void collect(DumpContext& ctx, img::Process& out) override;

 private:
  void refuseUnsupported(DumpContext& ctx);
};

}  // namespace cryo
