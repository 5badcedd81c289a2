// SignalsCollector: process-wide signal state: every handler (with flags, mask and restorer)
// and the signals pending for the whole process.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class SignalsCollector : public Collector {
 public:
  std::string_view name() const override { return "signals"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
