// TimerFdDumper: timerfd descriptors ("anon_inode:[timerfd]"): clock, settime flags, the time
// left until the next expiration, the interval and the expirations not read yet.
#pragma once

#include "dump/fds/FdDumper.h"

namespace cryo {

class TimerFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "timerfd"; }
  bool claims(const OpenFd& f) const override { return f.anonKind() == "timerfd"; }
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;
};

}  // namespace cryo
