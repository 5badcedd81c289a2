// InotifyFdDumper: inotify instances ("anon_inode:inotify"): every watch (wd, mask, and the
// path of the watched inode, found from its file handle); refused with events queued unread.
#pragma once

#include "dump/fds/FdDumper.h"

namespace cryo {

class InotifyFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "inotify"; }
  bool claims(const OpenFd& f) const override { return f.anonKind() == "inotify"; }
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;
};

}  // namespace cryo
