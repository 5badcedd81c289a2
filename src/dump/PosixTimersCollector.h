// PosixTimersCollector: the POSIX timers of the process (timer_create): ID, clock, how they
// notify, from /proc/PID/timers; time left and interval from timer_gettime injected in the
// task (in batches).
#pragma once

#include "dump/Collector.h"

namespace cryo {

class PosixTimersCollector : public Collector {
 public:
  std::string_view name() const override { return "posix timers"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
