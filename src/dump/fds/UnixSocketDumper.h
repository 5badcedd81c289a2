// UnixSocketDumper: AF_UNIX sockets (stream, datagram, seqpacket): name, peer (found with
// sock_diag; it must be held by the dumped tree), listening backlog, shutdown state, socket
// options and the receive queue (read without consuming it, stored once per tree).
#pragma once

#include <string>

#include "common/UniqueFd.h"
#include "cryo.pb.h"
#include "dump/fds/OpenFd.h"

namespace cryo {

class DumpContext;
class SockDiag;

class UnixSocketDumper {
 public:
  // Fills `d` (kind UNIX_SOCKET) for the task's fd `f`; `copy` is cryo's copy of it.
  void dump(DumpContext& ctx, SockDiag& diag, const OpenFd& f, const UniqueFd& copy,
            img::FileDescription& d);
  // Whether `f` is a UNIX socket connected to a peer that the dumped tree holds.
  bool peerInTree(DumpContext& ctx, SockDiag& diag, const OpenFd& f);
};

}  // namespace cryo
