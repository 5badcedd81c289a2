// SignalsRestorer: reinstalls every signal handler and queues the process-wide pending signals
// (queued by the process to itself, so any si_code is accepted).
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class SignalsRestorer : public Restorer {
 public:
  std::string_view name() const override { return "signals"; }
  void restore(RestoreContext& ctx, const img::Process& in) override;
};

}  // namespace cryo
