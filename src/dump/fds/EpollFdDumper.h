// EpollFdDumper: epoll instances ("anon_inode:[eventpoll]"): the interest list from
// /proc/PID/fdinfo, each watched file found (kcmp) at its fd number or at another fd.
#pragma once

#include <linux/kcmp.h>

#include <string>

#include "dump/fds/FdDumper.h"

namespace cryo {

class EpollFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "epoll"; }
  bool claims(const OpenFd& f) const override { return f.anonKind() == "eventpoll"; }
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;

 private:
  // Whether fd `fd` of `pid` holds the file of the epoll entry `slot` (false if it is closed).
  static bool holds(pid_t pid, int fd, kcmp_epoll_slot& slot, const std::string& who);
  // The fd of `pid` holding the file of entry `slot` other than slot.tfd, or -1.
  static int heldAt(pid_t pid, const FdTable& table, kcmp_epoll_slot& slot,
                    const std::string& who);
};

}  // namespace cryo
