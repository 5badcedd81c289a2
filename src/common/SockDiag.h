// SockDiag: queries of the kernel's socket tables through sock_diag netlink
// (NETLINK_SOCK_DIAG): a UNIX socket by inode (name, peer, queue lengths, bound file,
// shutdown state), every UNIX socket, and a TCP or UDP socket by inode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/UniqueFd.h"

namespace cryo {

struct UnixDiag {
  uint64_t ino = 0;
  uint8_t type = 0;       // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  uint8_t state = 0;      // TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE (the kernel's use)
  std::string name;       // bound address (sun_path bytes); empty: unbound
  bool hasPeer = false;   // connected: peer is the peer's inode (0: the peer was closed)
  uint64_t peer = 0;
  bool hasVfs = false;    // bound to a file: its inode and device (st_dev encoding)
  uint64_t vfsIno = 0;
  uint64_t vfsDev = 0;
  // Listening: connections waiting to be accepted and the backlog; otherwise bytes queued
  // for reading (a datagram socket: the first datagram) and bytes sent not yet read.
  uint32_t rqueue = 0;
  uint32_t wqueue = 0;
  uint8_t shutdown = 0;   // RCV_SHUTDOWN (1) | SEND_SHUTDOWN (2)
  // Listening: the client sockets of the connections waiting to be accepted, in the order
  // accept() takes them (0: a client that was closed).
  std::vector<uint64_t> icons;
};

struct InetDiag {
  uint64_t ino = 0;
  uint8_t state = 0;      // TCP_* (UDP: TCP_CLOSE or TCP_ESTABLISHED when connected)
  // Listening: connections waiting to be accepted and the backlog.
  uint32_t rqueue = 0;
  uint32_t wqueue = 0;
};

class SockDiag {
 public:
  SockDiag();

  // The UNIX socket with inode `ino`, or nullopt if there is none (closed).
  std::optional<UnixDiag> unixSocket(uint64_t ino);
  // Every UNIX socket of cryo's network namespace.
  std::vector<UnixDiag> unixSockets();
  // The TCP or UDP socket (`protocol`) of `family` with inode `ino`, or nullopt.
  std::optional<InetDiag> inetSocket(int family, int protocol, uint64_t ino);

 private:
  // Sends one request and hands every reply message of type SOCK_DIAG_BY_FAMILY to `each`;
  // returns the error a NLMSG_ERROR reply carried (0: none).
  template <typename Req, typename Fn>
  int query(const Req& req, bool dump, Fn&& each);

  UniqueFd nl_;
};

}  // namespace cryo
