// ThreadsRestorer: recreates the other threads with their saved TIDs (clone3 set_tid from the
// leader) and restores per-thread kernel state: robust list, clear_child_tid, rseq,
// alternate stack, name, scheduling and private pending signals. Registers, extended state and
// signal masks are applied by RestoreDriver as the very last step.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class ThreadsRestorer : public Restorer {
 public:
  std::string_view name() const override { return "threads"; }
  void validate(RestoreContext& ctx, const img::Process& in) override;
  void restore(RestoreContext& ctx, const img::Process& in) override;

 private:
  void createThread(RestoreContext& ctx, pid_t tid);
  void restoreThreadState(RestoreContext& ctx, const img::Thread& th);
};

}  // namespace cryo
