// UnixSocketRestorer: AF_UNIX sockets made again inside the tree: a connected pair as a
// socketpair (each end received by the description that has it, in whichever process), a
// socket whose peer was closed as a pair whose other end is closed, listening and bound
// sockets bound again (a stale socket file at the path removed) and datagram sockets
// connected again; connections that waited in a listener's backlog connected to it again in
// their order; receive queues refilled by sending from the peer (or from the socket that sent
// each datagram) with the files in flight attached, then options, peek offset and shutdown
// state.
#pragma once

#include <sys/types.h>
#include <sys/un.h>

#include <map>
#include <set>
#include <string>

#include "common/UniqueFd.h"
#include "restore/fds/FdRestorer.h"
#include "restore/fds/FilesInFlight.h"

namespace cryo {

class UnixSocketRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "unix socket"; }
  bool handles(img::FileDescription::Kind kind) const override;
  void validate(RestoreContext& ctx, const img::FileDescription& d) override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;
  // Refills the queues that carry files in flight once those files exist (see deferred()).
  void finish(FdInstaller& inst) override;

 private:
  using US = img::UnixSocket;
  // The saved state of socket `ino` anywhere in the tree (the description holding its queue).
  const US& find(RestoreContext& ctx, uint64_t ino);
  // Makes socket `ino` (and its pair) if the tree holds no such socket yet.
  void ensure(FdInstaller& inst, uint64_t ino);
  // socket(), bind() and listen() in the process; cryo keeps it under its inode.
  void create(FdInstaller& inst, const US& s, const std::string& who);
  void bindInProcess(FdInstaller& inst, int fd, const US& s, const std::string& who);
  // The connections that waited in listener `s`'s backlog: each client socket made and
  // connected to it again, in the order accept() takes them.
  void connectPending(FdInstaller& inst, const US& s, const std::string& who);
  void makePair(FdInstaller& inst, const US& a, const US* b);
  // Refills the queue of `s` (cryo's copy `fd`) by datagrams sent to its name, each from the
  // socket of the tree that sent it or from a socket of cryo's own.
  void refillByName(FdInstaller& inst, int fd, const US& s, const std::string& who);
  // A datagram socket connected again; options, peek offset, shutdown state.
  void connectAndSettle(FdInstaller& inst, int fd, const US& s, const std::string& who);
  // Options, peek offset, shutdown state: what is set once the queue is back.
  void settle(int fd, const US& s, const std::string& who);

  // Sends every message of the queue of `s` from `from` (its peer).
  void sendQueue(FdInstaller& inst, int from, const US& s, const std::string& who);
  // Sends one message (with its files in flight, SCM_RIGHTS) from `from`.
  void sendMessage(FdInstaller& inst, int from, const img::SocketMessage& m, bool stream,
                   const sockaddr_un* to, unsigned toLen, const std::string& who);
  // The socket made by the same socketpair as `s`, or nullptr.
  const US* pairOf(RestoreContext& ctx, const US& s);
  // Whether the queue of `s` or of its pair carries files in flight: refilled by finish()
  // once every process holding them is restored, with its settling (and a datagram socket's
  // connect) after it.
  bool deferred(RestoreContext& ctx, const US& s);
  void refillDeferred(FdInstaller& inst, const US& s);

  void index(RestoreContext& ctx);
  bool indexed_ = false;
  std::map<uint64_t, const US*> byIno_;
  std::map<std::string, uint64_t> byName_;  // owners of names (not accepted connections)
  FilesInFlight files_;
};

}  // namespace cryo
