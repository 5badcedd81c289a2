// EventFdDumper: eventfd descriptors ("anon_inode:[eventfd]"): the counter and the semaphore
// flag, read from /proc/PID/fdinfo (status flags are the description's own).
#pragma once

#include "dump/fds/FdDumper.h"

namespace cryo {

class EventFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "eventfd"; }
  bool claims(const OpenFd& f) const override { return f.anonKind() == "eventfd"; }
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;
};

}  // namespace cryo
