// SignalsCollector: (placeholder) Signals state, Collector side.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class SignalsCollector : public Collector {
 public:
  std::string_view name() const override { return "Signals"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
