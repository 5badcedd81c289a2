// EpollFdDumper: epoll instances ("anon_inode:[eventpoll]"): the interest list from
// /proc/PID/fdinfo, each watched fd checked (kcmp) to still hold the very file it watches.
#pragma once

#include "dump/fds/FdDumper.h"

namespace cryo {

class EpollFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "epoll"; }
  bool claims(const OpenFd& f) const override { return f.anonKind() == "eventpoll"; }
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;
};

}  // namespace cryo
