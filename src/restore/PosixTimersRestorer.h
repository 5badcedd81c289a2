// PosixTimersRestorer: the POSIX timers of the process created again (timer_create injected in
// the restored task) under their saved IDs, then armed with the time left at the dump.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class PosixTimersRestorer : public Restorer {
 public:
  std::string_view name() const override { return "posix timers"; }
  void validate(RestoreContext& ctx, const img::Process& in) override;
  void restore(RestoreContext& ctx, const img::Process& in) override;

 private:
  // Whether timer_create can be asked for an ID here (prctl PR_TIMER_CREATE_RESTORE_IDS);
  // CRYO_TIMER_IDS=sequential makes cryo act as if it could not.
  static bool kernelTakesIds();
  // Creates `t` (or, with `placeholder`, a SIGEV_NONE timer) and returns the ID it got.
  static int create(RestoreContext& ctx, const img::PosixTimer& t, bool placeholder,
                    int requestedId);
};

}  // namespace cryo
