// EpollFdRestorer: epoll instances created again (epoll_create1) and, once every other fd of
// the process exists, given their interest lists back (EPOLL_CTL_ADD of the same fd numbers
// with the same events and data; an entry whose file had left its fd number is added under
// that number through a copy of the file placed there for the time of the call).
#pragma once

#include "restore/fds/FdRestorer.h"

namespace cryo {

class EpollFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "epoll"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
  void finish(FdInstaller& inst) override;

 private:
  static void add(FdInstaller& inst, const img::FileDescription& d, int epfd,
                  const img::EpollTarget& t);
  static void addStale(FdInstaller& inst, const img::FileDescription& d, int epfd,
                       const img::EpollTarget& t);
};

}  // namespace cryo
