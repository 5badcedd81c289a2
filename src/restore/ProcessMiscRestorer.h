// ProcessMiscRestorer: (placeholder) ProcessMisc state, Restorer side.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class ProcessMiscRestorer : public Restorer {
 public:
  std::string_view name() const override { return "ProcessMisc"; }
  void restore(RestoreContext& ctx, const img::Process& in) override;
};

}  // namespace cryo
