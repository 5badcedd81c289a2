// ProcessMiscRestorer: process-wide odds and ends: working and root directory, umask,
// personality, rlimits, prctl flags, and (last) interval timers. Sessions and process groups
// are made with the process (ProcessBuilder).
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class ProcessMiscRestorer : public Restorer {
 public:
  std::string_view name() const override { return "process"; }
  void validate(RestoreContext& ctx, const img::Process& in) override;
  void restore(RestoreContext& ctx, const img::Process& in) override;

 private:
  void restoreRlimits(RestoreContext& ctx, const img::Process& in);
  // cwd, root and umask (set once for the processes sharing them: RestoreContext::restoresFs).
  void restoreFs(RestoreContext& ctx, const img::Process& in);
};

}  // namespace cryo
