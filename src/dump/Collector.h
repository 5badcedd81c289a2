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
  virtual void collect(DumpContext& ctx, img::Process& out) = 0;
  // Whether collect() reads the pages changed since the parent (DumpContext::changedRanges):
  // the dump then has them ready first (they may be found on another thread meanwhile).
  virtual bool needsChangedRanges() const { return false; }
};

}  // namespace cryo
