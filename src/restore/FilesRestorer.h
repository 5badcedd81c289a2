// FilesRestorer: rebuilds every open file description of the process with the fd restorer of
// its kind (FdRestorerRegistry) and installs it at the saved fd numbers with the saved
// close-on-exec bits; then lets each kind finish (epoll interest lists need every fd). A
// process sharing its parent's fd table leaves it to the parent. The file locks are taken by
// takeLocks(), once every process of the tree is restored.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class FilesRestorer : public Restorer {
 public:
  std::string_view name() const override { return "files"; }
  void validate(RestoreContext& ctx, const img::Process& in) override;
  void restore(RestoreContext& ctx, const img::Process& in) override;
  // Takes the process's file locks again (FileLockTaker): run when nothing will close an fd
  // of the process's table again (that drops the table's POSIX locks on the file).
  static void takeLocks(RestoreContext& ctx, const img::Process& in);
};

}  // namespace cryo
