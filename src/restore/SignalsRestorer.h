// SignalsRestorer: (placeholder) Signals state, Restorer side.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class SignalsRestorer : public Restorer {
 public:
  std::string_view name() const override { return "Signals"; }
  void restore(RestoreContext& ctx, const img::Process& in) override;
};

}  // namespace cryo
