// FileFdDumper: fds that name a path: regular files (the path must still name the very file
// that is open), files deleted while open (contents stored once per inode, see DeletedFiles),
// directories, character devices (a terminal on a standard stream is INHERITED) and FIFOs,
// named or deleted, with their buffered bytes.
#pragma once

#include "dump/fds/FdDumper.h"

namespace cryo {

class FileFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "file"; }
  bool claims(const OpenFd& f) const override;
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;

 private:
  static void dumpFifo(DumpContext& ctx, const OpenFd& f, bool deleted, img::FileDescription& d);
};

}  // namespace cryo
