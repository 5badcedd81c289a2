// ThreadsCollector: per-thread state of a frozen process: registers (general and extended),
// signal mask and pending signals, alternate stack, rseq, robust futex list, clear_child_tid,
// name and scheduling.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class ThreadsCollector : public Collector {
 public:
  std::string_view name() const override { return "threads"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
