// InheritedFdRestorer: standard streams that were connected outside the task (a terminal, a
// pipe or socket to another process) become the restoring cryo's own stream of that number.
#include "restore/fds/InheritedFdRestorer.h"

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

bool InheritedFdRestorer::handles(img::FileDescription::Kind kind) const {
  return kind == img::FileDescription::INHERITED;
}

int InheritedFdRestorer::open(FdInstaller& inst, const img::FileDescription& d) {
  RestoreContext& ctx = inst.context();
  int src = ctx.inheritedStdio(d.inherited_fd());
  if (src < 0)
    fail("pid {}: fd {} was connected outside the task ({}); it is given cryo's own standard "
         "stream {}, but cryo has none open",
         ctx.pid(), d.inherited_fd(), d.description(), d.inherited_fd());
  // The copy of cryo's stream is this description's temporary fd from now on.
  ctx.setInheritedStdio(d.inherited_fd(), -1);
  return src;
}

}  // namespace cryo
