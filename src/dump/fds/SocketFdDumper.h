// SocketFdDumper: socket fds ("socket:[N]"): UNIX sockets (UnixSocketDumper) and TCP/UDP
// sockets (InetSocketDumper); a standard stream connected outside the tree stays INHERITED;
// any other family is refused.
#pragma once

#include <memory>

#include "dump/fds/FdDumper.h"
#include "dump/fds/InetSocketDumper.h"
#include "dump/fds/UnixSocketDumper.h"

namespace cryo {

class SockDiag;

class SocketFdDumper : public FdDumper {
 public:
  SocketFdDumper();
  ~SocketFdDumper() override;
  std::string_view name() const override { return "socket"; }
  bool claims(const OpenFd& f) const override;
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;

 private:
  SockDiag& diag();
  std::unique_ptr<SockDiag> diag_;
  UnixSocketDumper unix_;
  InetSocketDumper inet_;
};

}  // namespace cryo
