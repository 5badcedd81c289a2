// InetSocketDumper: TCP and UDP sockets over IPv4 and IPv6: the bound address, listening
// backlog, UDP peer and the socket options that matter. An established TCP connection is
// refused, or with --tcp-close recorded as reset (and reset for its peer once the dump ends
// well, when the task is killed).
#include "dump/fds/InetSocketDumper.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>
#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/InetAddress.h"
#include "common/SockDiag.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {

using IS = img::InetSocket;

const char* tcpStateName(int st) {
  static const char* const names[] = {"?",          "ESTABLISHED", "SYN_SENT", "SYN_RECV",
                                      "FIN_WAIT1",  "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
                                      "CLOSE_WAIT", "LAST_ACK",    "LISTEN",   "CLOSING"};
  return st >= 0 && st < 12 ? names[st] : "?";
}

}  // namespace

void InetSocketDumper::dump(DumpContext& ctx, SockDiag& diag, const OpenFd& f, UniqueFd copy,
                            img::FileDescription& d) {
  std::string who = fmt::format("pid {}: fd {} ({})", ctx.pid(), f.fd, f.link);
  int fd = copy.get();
  auto intOpt = [&](int level, int opt, const char* what) {
    int v = 0;
    socklen_t len = sizeof v;
    if (::getsockopt(fd, level, opt, &v, &len) != 0) failErrno("{}: getsockopt({})", who, what);
    return v;
  };
  int family = intOpt(SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
  int type = intOpt(SOL_SOCKET, SO_TYPE, "SO_TYPE");
  int protocol = intOpt(SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
  bool tcp = type == SOCK_STREAM && protocol == IPPROTO_TCP;
  bool udp = type == SOCK_DGRAM && protocol == IPPROTO_UDP;
  const char* fam = family == AF_INET ? "IPv4" : "IPv6";
  if (!tcp && !udp)
    fail("{}: {} sockets of type {} and protocol {} are not supported yet (only TCP and UDP)",
         who, fam, type, protocol);

  d.set_kind(img::FileDescription::INET_SOCKET);
  IS& s = *d.mutable_inet_socket();
  s.set_family(family);
  s.set_type(type);
  s.set_protocol(protocol);

  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0)
    failErrno("{}: getsockname", who);
  std::string addr;
  uint32_t port = 0, scope = 0;
  InetAddress::split(local, addr, port, scope);
  s.set_local_addr(addr);
  s.set_local_port(port);
  s.set_local_scope_id(scope);
  s.set_bound(port != 0);
  std::string localText = InetAddress::text(family, addr, port);

  sockaddr_storage peer{};
  len = sizeof peer;
  bool connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
  std::string peerText;
  if (connected) {
    InetAddress::split(peer, addr, port, scope);
    s.set_peer_addr(addr);
    s.set_peer_port(port);
    s.set_peer_scope_id(scope);
    peerText = InetAddress::text(family, addr, port);
  }

  struct {
    int level, name;
    const char* text;
    bool tcpOnly, v6Only;
  } const opts[] = {{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", false, false},
                    {SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", false, false},
                    {SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", false, false},
                    {SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST", false, false},
                    {IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", false, true},
                    {IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", true, false}};
  for (const auto& o : opts) {
    if ((o.tcpOnly && !tcp) || (o.v6Only && family != AF_INET6)) continue;
    img::SockOpt* so = s.add_options();
    so->set_level(o.level);
    so->set_name(o.name);
    so->set_value(intOpt(o.level, o.name, o.text));
  }

  if (udp) {
    s.set_state(connected ? IS::CONNECTED : IS::UNCONNECTED);
    int queued = 0;
    if (::ioctl(fd, SIOCINQ, &queued) == 0 && queued > 0)
      spdlog::warn("{}: the datagrams queued in UDP socket {} are not kept (UDP may lose "
                   "datagrams)",
                   who, localText);
    return;
  }

  tcp_info ti{};
  len = sizeof ti;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
    failErrno("{}: getsockopt(TCP_INFO)", who);
  s.set_tcp_state(ti.tcpi_state);
  bool tcpClose = ctx.options().tcpClose;
  if (ti.tcpi_state == TCP_LISTEN) {
    s.set_state(IS::LISTENING);
    auto di = diag.inetSocket(family, IPPROTO_TCP, f.st.st_ino);
    if (!di) fail("{}: sock_diag does not know this listening TCP socket", who);
    s.set_backlog(di->wqueue);
    if (di->rqueue > 0) {
      if (!tcpClose)
        fail("{}: listening TCP socket {} has {} connection(s) waiting in its backlog (not "
             "accepted yet); pass --tcp-close to let them be reset, or checkpoint once they "
             "are accepted",
             who, localText, di->rqueue);
      spdlog::warn("{}: the {} connection(s) waiting in the backlog of {} are dropped "
                   "(--tcp-close)",
                   who, di->rqueue, localText);
    }
    return;
  }
  if (ti.tcpi_state == TCP_CLOSE) {
    s.set_state(IS::UNCONNECTED);
    return;
  }
  // A connection (established, being set up, or being closed).
  std::string what = ti.tcpi_state == TCP_ESTABLISHED
                         ? std::string("established TCP connection")
                         : fmt::format("TCP connection ({})", tcpStateName(ti.tcpi_state));
  if (!tcpClose)
    fail("{}: {} {} -> {}; pass --tcp-close to checkpoint it as closed (the restored program "
         "sees the connection reset)",
         who, what, localText, connected ? peerText : "?");
  s.set_state(IS::RESET);
  spdlog::info("{}: {} {} -> {} recorded as closed (--tcp-close)", who, what, localText,
               peerText);
  if (!ctx.options().leaveRunning)
    ctx.fdIndex().tcpResets().add(std::move(copy), fmt::format("{}: {} {} -> {}", who, what,
                                                               localText, peerText));
}

}  // namespace cryo
