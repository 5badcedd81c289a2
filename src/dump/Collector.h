// Collector: the interface of one kind of process state on the dump side (memory, threads,
// files, signals, ...). Each fills its part of the image's Process message.
#pragma once

#include <string_view>

#include "cryo.pb.h"

namespace cryo {

class DumpContext;

class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  // Reads this kind of state of the frozen process into `out`. Throws an Error naming what is
  // unsupported (which fd, which mapping); the process is then thawed unharmed.
  // The pages changed since the parent (DumpContext::changedRanges) may still be being found
  // on another thread: asking for them waits, so a collector asks as late as it can.
  virtual void collect(DumpContext& ctx, img::Process& out) = 0;
};

}  // namespace cryo
