// SignalsCollector: process-wide signal state: every handler (with flags, mask and restorer)
// and the signals pending for the whole process; a job-control stop.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class SignalsCollector : public Collector {
 public:
  std::string_view name() const override { return "signals"; }
  void collect(DumpContext& ctx, img::Process& out) override;

 private:
  // A job-control stop (restored stopped); refused if the parent is dumped too.
  static void collectJobStop(DumpContext& ctx, img::Process& out);
};

}  // namespace cryo
