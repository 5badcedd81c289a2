// ProcessMiscCollector: (placeholder) ProcessMisc state, Collector side.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class ProcessMiscCollector : public Collector {
 public:
  std::string_view name() const override { return "ProcessMisc"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
