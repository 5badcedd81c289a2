// SocketFdDumper: socket fds ("socket:[N]"): UNIX sockets (UnixSocketDumper) and TCP/UDP
// sockets (InetSocketDumper); a standard stream connected outside the tree stays INHERITED;
// any other family is refused.
#include "dump/fds/SocketFdDumper.h"

#include <sys/socket.h>

#include "common/Error.h"
#include "common/SockDiag.h"
#include "dump/DumpContext.h"

namespace cryo {

SocketFdDumper::SocketFdDumper() = default;
SocketFdDumper::~SocketFdDumper() = default;

bool SocketFdDumper::claims(const OpenFd& f) const { return f.link.rfind("socket:[", 0) == 0; }

SockDiag& SocketFdDumper::diag() {
  if (!diag_) diag_ = std::make_unique<SockDiag>();
  return *diag_;
}

void SocketFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                          img::FileDescription& d) {
  UniqueFd copy = ctx.takeFd(f.fd);
  int domain = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(copy.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
    failErrno("pid {}: fd {} ({}): getsockopt(SO_DOMAIN)", ctx.pid(), f.fd, f.link);
  // A standard stream is the caller's (a terminal's, a pipe's or a socket's to a process
  // outside the tree) unless it is a UNIX socket whose peer the tree holds.
  bool inherited = f.isStdio() && !(domain == AF_UNIX && unix_.peerInTree(ctx, diag(), f));
  if (inherited) {
    d.set_kind(img::FileDescription::INHERITED);
    d.set_inherited_fd(f.fd);
    return;
  }
  switch (domain) {
    case AF_UNIX:
      unix_.dump(ctx, diag(), f, copy, d);
      return;
    case AF_INET:
    case AF_INET6:
      inet_.dump(ctx, diag(), f, std::move(copy), d);
      return;
    default:
      fail("pid {}: fd {} ({}): sockets of address family {} are not supported yet", ctx.pid(),
           f.fd, f.link, domain);
  }
}

}  // namespace cryo
