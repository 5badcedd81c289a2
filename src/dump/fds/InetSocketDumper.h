// InetSocketDumper: TCP and UDP sockets over IPv4 and IPv6: the bound address, listening
// backlog, UDP peer and the socket options that matter. An established TCP connection is
// refused, or with --tcp-close recorded as reset (and reset for its peer once the dump ends
// well, when the task is killed).
#pragma once

#include <string>

#include "common/UniqueFd.h"
#include "cryo.pb.h"
#include "dump/fds/OpenFd.h"

namespace cryo {

class DumpContext;
class SockDiag;

class InetSocketDumper {
 public:
  // Fills `d` (kind INET_SOCKET) for the task's fd `f`; `copy` is cryo's copy of it.
  void dump(DumpContext& ctx, SockDiag& diag, const OpenFd& f, UniqueFd copy,
            img::FileDescription& d);
};

}  // namespace cryo
