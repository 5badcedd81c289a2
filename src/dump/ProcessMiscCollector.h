// ProcessMiscCollector: process-wide odds and ends (umask, cwd, root, personality, interval
// timers, rlimits, prctl flags) and the refusal of what cryo cannot restore yet (child
// processes, foreign namespaces, seccomp filters).
#pragma once

#include <map>
#include <string>

#include "dump/Collector.h"

namespace cryo {

class ProcessMiscCollector : public Collector {
 public:
  std::string_view name() const override { return "process"; }
  void collect(DumpContext& ctx, img::Process& out) override;

 private:
  // `status`: the process's /proc status fields.
  void refuseUnsupported(DumpContext& ctx, const std::map<std::string, std::string>& status);
};

}  // namespace cryo
