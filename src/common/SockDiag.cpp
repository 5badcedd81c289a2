// SockDiag: queries of the kernel's socket tables through sock_diag netlink
// (NETLINK_SOCK_DIAG): a UNIX socket by inode (name, peer, queue lengths, bound file,
// shutdown state, pending connections), every UNIX socket, and a TCP or UDP socket by inode.
#include "common/SockDiag.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "common/Error.h"

namespace cryo {

namespace {

UnixDiag parseUnix(const nlmsghdr* h) {
  const auto* m = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
  UnixDiag u;
  u.ino = m->udiag_ino;
  u.type = m->udiag_type;
  u.state = m->udiag_state;
  int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
  for (auto* a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(m) +
                                                 NLMSG_ALIGN(sizeof *m));
       len >= static_cast<int>(sizeof(nlattr)) && a->nla_len >= sizeof(nlattr) &&
       a->nla_len <= len;
       len -= NLA_ALIGN(a->nla_len),
            a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) +
                                                NLA_ALIGN(a->nla_len))) {
    const char* data = reinterpret_cast<const char*>(a) + NLA_HDRLEN;
    size_t n = a->nla_len - NLA_HDRLEN;
    switch (a->nla_type & NLA_TYPE_MASK) {
      case UNIX_DIAG_NAME:
        u.name.assign(data, n);
        break;
      case UNIX_DIAG_PEER: {
        uint32_t p = 0;
        std::memcpy(&p, data, std::min(n, sizeof p));
        u.hasPeer = true;
        u.peer = p;
        break;
      }
      case UNIX_DIAG_VFS: {
        unix_diag_vfs v{};
        std::memcpy(&v, data, std::min(n, sizeof v));
        u.hasVfs = true;
        u.vfsIno = v.udiag_vfs_ino;
        // The kernel's dev_t (major << 20 | minor) as stat() encodes it.
        u.vfsDev = makedev(v.udiag_vfs_dev >> 20, v.udiag_vfs_dev & 0xfffff);
        break;
      }
      case UNIX_DIAG_RQLEN: {
        unix_diag_rqlen q{};
        std::memcpy(&q, data, std::min(n, sizeof q));
        u.rqueue = q.udiag_rqueue;
        u.wqueue = q.udiag_wqueue;
        break;
      }
      case UNIX_DIAG_SHUTDOWN:
        if (n >= 1) u.shutdown = static_cast<uint8_t>(data[0]);
        break;
      case UNIX_DIAG_ICONS:
        for (size_t i = 0; i + sizeof(uint32_t) <= n; i += sizeof(uint32_t)) {
          uint32_t c = 0;
          std::memcpy(&c, data + i, sizeof c);
          u.icons.push_back(c);
        }
        break;
      default:
        break;
    }
  }
  return u;
}

constexpr uint32_t kUnixShow =
    UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_ICONS;

}  // namespace

SockDiag::SockDiag() {
  nl_.reset(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl_) failErrno("cannot open a sock_diag netlink socket (NETLINK_SOCK_DIAG)");
}

template <typename Req, typename Fn>
int SockDiag::query(const Req& req, bool dump, Fn&& each) {
  struct {
    nlmsghdr h;
    Req r;
  } msg{};
  msg.h.nlmsg_len = sizeof msg;
  msg.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0));
  msg.h.nlmsg_seq = 1;
  msg.r = req;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl_.get(), &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof msg))
    failErrno("sock_diag: cannot send a request");
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(nl_.get(), buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failErrno("sock_diag: cannot read the reply");
    if (n == 0) fail("sock_diag: empty reply");
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        return -e->error;
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
      each(h);
      if (!dump) return 0;
    }
  }
}

std::optional<UnixDiag> SockDiag::unixSocket(uint64_t ino) {
  unix_diag_req r{};
  r.sdiag_family = AF_UNIX;
  r.udiag_states = ~0u;
  r.udiag_ino = static_cast<uint32_t>(ino);
  r.udiag_show = kUnixShow;
  r.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
  r.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
  std::optional<UnixDiag> out;
  // UNIX_DIAG_SHUTDOWN comes with every reply (Linux 4.x and later).
  int err = query(r, false, [&](const nlmsghdr* h) { out = parseUnix(h); });
  if (err == ENOENT) return std::nullopt;
  if (err) throw SysError(fmt::format("sock_diag: cannot look up UNIX socket {}", ino), err);
  if (out && out->ino != ino) fail("sock_diag: asked for UNIX socket {}, got {}", ino, out->ino);
  return out;
}

std::vector<UnixDiag> SockDiag::unixSockets() {
  unix_diag_req r{};
  r.sdiag_family = AF_UNIX;
  r.udiag_states = ~0u;
  r.udiag_show = kUnixShow;
  std::vector<UnixDiag> out;
  int err = query(r, true, [&](const nlmsghdr* h) { out.push_back(parseUnix(h)); });
  if (err) throw SysError("sock_diag: cannot list UNIX sockets", err);
  return out;
}

std::optional<InetDiag> SockDiag::inetSocket(int family, int protocol, uint64_t ino) {
  inet_diag_req_v2 r{};
  r.sdiag_family = static_cast<uint8_t>(family);
  r.sdiag_protocol = static_cast<uint8_t>(protocol);
  r.idiag_states = ~0u;
  std::optional<InetDiag> out;
  int err = query(r, true, [&](const nlmsghdr* h) {
    const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
    if (m->idiag_inode != ino || out) return;
    InetDiag d;
    d.ino = m->idiag_inode;
    d.state = m->idiag_state;
    d.rqueue = m->idiag_rqueue;
    d.wqueue = m->idiag_wqueue;
    out = d;
  });
  if (err)
    throw SysError(fmt::format("sock_diag: cannot list {} sockets",
                               protocol == IPPROTO_TCP ? "TCP" : "UDP"),
                   err);
  return out;
}

}  // namespace cryo
