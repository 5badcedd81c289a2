// InetSocketRestorer: TCP and UDP sockets made again inside the process with their options,
// bound to the same address and port (SO_REUSEADDR held on while binding and listening, so
// that the dead original's connections do not keep the port), listening with the same
// backlog, a UDP socket connected again to its peer; a TCP connection recorded as closed
// (--tcp-close) comes back as a socket whose connection was reset (ECONNRESET, then end of
// file).
#include "restore/fds/InetSocketRestorer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstring>

#include "common/Error.h"
#include "common/InetAddress.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"
#include "restore/fds/SocketOptions.h"

namespace cryo {

namespace {

using FD = img::FileDescription;
using IS = img::InetSocket;

}  // namespace

bool InetSocketRestorer::handles(FD::Kind kind) const { return kind == FD::INET_SOCKET; }

void InetSocketRestorer::validate(RestoreContext& ctx, const FD& d) {
  const IS& s = d.inet_socket();
  bool ok = (s.family() == AF_INET || s.family() == AF_INET6) &&
            ((s.type() == SOCK_STREAM && s.protocol() == IPPROTO_TCP) ||
             (s.type() == SOCK_DGRAM && s.protocol() == IPPROTO_UDP));
  if (!ok)
    fail("pid {}: {}: socket of family {}, type {}, protocol {} in the image: not a TCP or UDP "
         "socket",
         ctx.pid(), d.description(), s.family(), s.type(), s.protocol());
}

int InetSocketRestorer::open(FdInstaller& inst, const FD& d) {
  RestoreContext& ctx = inst.context();
  const IS& s = d.inet_socket();
  std::string who = inst.who(d);
  int fd = inst.high(static_cast<int>(
      inst.sys(who + ": socket", SYS_socket, static_cast<uint64_t>(s.family()),
               static_cast<uint64_t>(s.type()) | SOCK_CLOEXEC,
               static_cast<uint64_t>(s.protocol()))));
  UniqueFd copy = ctx.takeFd(fd);
  auto isReuseAddr = [](const img::SockOpt& o) {
    return o.level() == SOL_SOCKET && o.name() == SO_REUSEADDR;
  };
  SocketOptions::apply(copy.get(), s.options(), who,
                       [&](const img::SockOpt& o) { return !isReuseAddr(o); });
  if (s.state() == IS::RESET) {
    makeReset(copy.get(), s.family(), who);
    inst.setFlags(fd, d);
    return fd;
  }
  if (s.bound()) {
    std::string local =
        InetAddress::text(s.family(), s.local_addr(), s.local_port());
    // The dead original's connections may linger on the port (TIME_WAIT): SO_REUSEADDR lets
    // the new socket have it (when they had it too); the saved value is set afterwards.
    SocketOptions::set(copy.get(), SOL_SOCKET, SO_REUSEADDR, 1, who);
    sockaddr_storage ss{};
    socklen_t len =
        InetAddress::make(s.family(), s.local_addr(), s.local_port(), s.local_scope_id(), ss, who);
    uint64_t addr = ctx.scratch().put(&ss, len);
    inst.sys(fmt::format("{}: bind to {}", who, local), SYS_bind, static_cast<uint64_t>(fd),
             addr, len);
    if (s.state() == IS::LISTENING)
      inst.sys(fmt::format("{}: listen on {} (backlog {})", who, local, s.backlog()),
               SYS_listen, static_cast<uint64_t>(fd), s.backlog());
  }
  SocketOptions::apply(copy.get(), s.options(), who, isReuseAddr);
  if (s.state() == IS::CONNECTED) {
    sockaddr_storage ss{};
    socklen_t len = InetAddress::make(s.family(), s.peer_addr(), s.peer_port(), s.peer_scope_id(), ss, who);
    if (::connect(copy.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
      failErrno("{}: cannot connect it again to {}", who,
                InetAddress::text(s.family(), s.peer_addr(), s.peer_port()));
  }
  inst.setFlags(fd, d);
  return fd;
}

void InetSocketRestorer::makeReset(int fd, int family, const std::string& who) {
  UniqueFd listener(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!listener) failErrno("{}: cannot make a loopback listener to reset its connection", who);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof a;
  } else {
    auto& a = reinterpret_cast<sockaddr_in6&>(ss);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    len = sizeof a;
  }
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    failErrno("{}: cannot listen on loopback to reset its connection", who);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    failErrno("{}: cannot connect it to cryo's loopback listener", who);
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!accepted) failErrno("{}: cannot accept its loopback connection", who);
  linger l{1, 0};
  if (::setsockopt(accepted.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0)
    failErrno("{}: setsockopt(SO_LINGER)", who);
  accepted.reset();  // sends the reset
  // Wait until the reset has arrived (on loopback, at once).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    tcp_info ti{};
    socklen_t tl = sizeof ti;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0)
      failErrno("{}: getsockopt(TCP_INFO)", who);
    if (ti.tcpi_state == TCP_CLOSE) return;
    if (std::chrono::steady_clock::now() > deadline)
      fail("{}: the reset of its connection did not arrive", who);
    pollfd p{fd, POLLERR | POLLHUP, 0};
    ::poll(&p, 1, 10);
  }
}

}  // namespace cryo
