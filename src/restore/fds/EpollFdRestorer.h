// EpollFdRestorer: epoll instances created again (epoll_create1) and, once every other fd of
// the process exists, given their interest lists back (EPOLL_CTL_ADD of the same fd numbers
// with the same events and data).
#pragma once

#include "restore/fds/FdRestorer.h"

namespace cryo {

class EpollFdRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "epoll"; }
  bool handles(img::FileDescription::Kind kind) const override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
  void finish(FdInstaller& inst) override;
};

}  // namespace cryo
