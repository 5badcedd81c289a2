// SocketFdDumper: sockets; only a standard stream connected outside the task (INHERITED) is
// supported, any other socket is refused.
#pragma once

#include "dump/fds/FdDumper.h"

namespace cryo {

class SocketFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "socket"; }
  bool claims(const OpenFd& f) const override;
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;
};

}  // namespace cryo
