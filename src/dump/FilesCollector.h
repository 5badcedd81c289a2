// FilesCollector: (placeholder) Files state, Collector side.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class FilesCollector : public Collector {
 public:
  std::string_view name() const override { return "Files"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
