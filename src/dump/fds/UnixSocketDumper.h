// UnixSocketDumper: AF_UNIX sockets (stream, datagram, seqpacket): name, peer (found with
// sock_diag; it must be held by the dumped tree), listening backlog and the connections
// waiting in it, shutdown state, socket options and the receive queue with the files in
// flight in it (read without consuming it, stored once per tree).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/UniqueFd.h"
#include "cryo.pb.h"
#include "dump/fds/OpenFd.h"

namespace cryo {

class DumpContext;
class SockDiag;
struct UnixDiag;

class UnixSocketDumper {
 public:
  // Fills `d` (kind UNIX_SOCKET) for the task's fd `f`; `copy` is cryo's copy of it.
  void dump(DumpContext& ctx, SockDiag& diag, const OpenFd& f, const UniqueFd& copy,
            img::FileDescription& d);
  // Whether `f` is a UNIX socket connected to a peer that the dumped tree holds.
  bool peerInTree(DumpContext& ctx, SockDiag& diag, const OpenFd& f);

 private:
  // The listening socket in whose backlog the connection of `client` waits, or 0.
  uint64_t pendingOn(SockDiag& diag, uint64_t client);
  // Connections waiting in the backlog of listener `u`: their clients, in accept order.
  void savePending(DumpContext& ctx, SockDiag& diag, const UnixDiag& u, const std::string& who,
                   img::UnixSocket& s);
  // `u` is the client of a connection waiting in the backlog of `listener`.
  void notePending(DumpContext& ctx, SockDiag& diag, uint64_t listener, const UnixDiag& u,
                   const std::string& who);
  // Refuses a waiting connection whose client sent data into it.
  static void refuseSent(const UnixDiag& client, const std::string& who,
                         const std::string& listener);

  std::optional<std::map<uint64_t, uint64_t>> pendingOn_;  // client -> listener
};

}  // namespace cryo
