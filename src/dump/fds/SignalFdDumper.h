// SignalFdDumper: signalfd descriptors ("anon_inode:[signalfd]"): the set of signals they
// read, from /proc/PID/fdinfo. The signals pending at the dump belong to the task's threads
// and process (SignalsCollector, ThreadsCollector), not to the fd.
#pragma once

#include "dump/fds/FdDumper.h"

namespace cryo {

class SignalFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "signalfd"; }
  bool claims(const OpenFd& f) const override { return f.anonKind() == "signalfd"; }
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;
};

}  // namespace cryo
