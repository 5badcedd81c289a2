// SocketFdDumper: sockets; only a standard stream connected outside the task (INHERITED) is
// supported, any other socket is refused.
#include "dump/fds/SocketFdDumper.h"

#include "common/Error.h"
#include "dump/DumpContext.h"

namespace cryo {

bool SocketFdDumper::claims(const OpenFd& f) const { return f.link.rfind("socket:[", 0) == 0; }

void SocketFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                          img::FileDescription& d) {
  if (!f.isStdio())
    fail("pid {}: fd {} ({}): sockets are not supported yet", ctx.pid(), f.fd, f.link);
  d.set_kind(img::FileDescription::INHERITED);
  d.set_inherited_fd(f.fd);
}

}  // namespace cryo
