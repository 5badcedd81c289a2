// UnixSocketRestorer: AF_UNIX sockets made again inside the tree: a connected pair as a
// socketpair (each end received by the description that has it, in whichever process), a
// socket whose peer was closed as a pair whose other end is closed, listening and bound
// sockets bound again (a stale socket file at the path removed) and datagram sockets
// connected again; connections that waited in a listener's backlog connected to it again in
// their order; receive queues refilled by sending from the peer (or from the socket that sent
// each datagram) with the files in flight attached, then options, peek offset and shutdown
// state.
#include "restore/fds/UnixSocketRestorer.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/SockDiag.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"
#include "restore/fds/FilesInFlight.h"
#include "restore/fds/SocketOptions.h"

namespace cryo {

namespace {

using FD = img::FileDescription;
using US = img::UnixSocket;

std::string printable(const std::string& name) {
  if (name.empty()) return "(unnamed)";
  if (name[0] == '\0') return std::string("@").append(name, 1);
  return name;
}

bool isPath(const std::string& name) { return !name.empty() && name[0] != '\0'; }

// Where cryo finds the name: an absolute path, or the abstract name.
std::string cryoPath(const US& s) {
  if (!isPath(s.name()) || s.name()[0] == '/' || s.bind_dir().empty()) return s.name();
  return s.bind_dir() + "/" + s.name();
}

// A sockaddr_un for `name` (path or abstract) and its length.
socklen_t address(const std::string& name, sockaddr_un& sa, const std::string& who) {
  sa = {};
  sa.sun_family = AF_UNIX;
  if (name.size() > sizeof sa.sun_path - (isPath(name) ? 1 : 0))
    fail("{}: the socket name {} is longer than a UNIX socket address holds", who,
         printable(name));
  std::memcpy(sa.sun_path, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                (isPath(name) ? 1 : 0));
}

// Whether socket `s` is the one that owns its name (bound by itself, not an accepted
// connection that shows its listener's name).
bool ownsName(const US& s) {
  if (s.name().empty()) return false;
  return s.state() != US::CONNECTED || s.type() == SOCK_DGRAM || s.pending_on() != 0;
}

bool carries(const US& s) { return FilesInFlight::carried(s); }

// Keys of TreeFiles this restorer adds: the closed peer of a socket whose refill waits; a
// queue refilled by finish().
std::string closedPeerKey(uint64_t ino) { return "unix-closed-peer:" + std::to_string(ino); }
std::string refilledKey(uint64_t ino) { return "unix-refilled:" + std::to_string(ino); }

void sendAll(int fd, const std::string& data, bool stream, const sockaddr_un* to,
             socklen_t toLen, const std::string& who) {
  size_t done = 0;
  do {
    ssize_t n = ::sendto(fd, data.data() + done, data.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL,
                         reinterpret_cast<const sockaddr*>(to), to ? toLen : 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failErrno("{}: cannot refill its receive queue ({} bytes)", who, data.size());
    done += static_cast<size_t>(n);
    if (!stream && done != data.size())
      fail("{}: cannot refill its receive queue: a message of {} bytes was cut", who,
           data.size());
  } while (done < data.size());
}

}  // namespace

bool UnixSocketRestorer::handles(FD::Kind kind) const { return kind == FD::UNIX_SOCKET; }

void UnixSocketRestorer::index(RestoreContext& ctx) {
  if (indexed_) return;
  indexed_ = true;
  for (const auto& p : ctx.image().tree().processes())
    for (const auto& d : p.files()) {
      if (d.kind() != FD::UNIX_SOCKET) continue;
      const US& s = d.unix_socket();
      auto it = byIno_.find(s.ino());
      if (it == byIno_.end() || (s.queue_saved() && !it->second->queue_saved()))
        byIno_[s.ino()] = &s;
      if (ownsName(s)) byName_.emplace(s.name(), s.ino());
    }
}

const US& UnixSocketRestorer::find(RestoreContext& ctx, uint64_t ino) {
  index(ctx);
  auto it = byIno_.find(ino);
  if (it == byIno_.end())
    fail("pid {}: the image names UNIX socket socket:[{}] but holds no description of it: it "
         "is corrupt",
         ctx.pid(), ino);
  return *it->second;
}

void UnixSocketRestorer::validate(RestoreContext& ctx, const FD& d) {
  const US& s = d.unix_socket();
  std::string who = fmt::format("pid {}: {}", ctx.pid(), d.description());
  if (s.type() != SOCK_STREAM && s.type() != SOCK_DGRAM && s.type() != SOCK_SEQPACKET)
    fail("{}: UNIX socket of unknown type {} in the image", who, s.type());
  files_.validate(ctx, s, who);
  if (!ownsName(s) || !isPath(s.name())) return;
  std::filesystem::path path = cryoPath(s);
  if (!std::filesystem::is_directory(path.parent_path()))
    fail("{}: directory {} (where the socket {} was bound) does not exist", who,
         path.parent_path().string(), s.name());
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
    fail("{}: {} exists and is not a socket; cannot bind the socket there again", who,
         path.string());
}

int UnixSocketRestorer::open(FdInstaller& inst, const FD& d) {
  RestoreContext& ctx = inst.context();
  ensure(inst, d.unix_socket().ino());
  int temp = ctx.receiveFd(ctx.treeFiles().get(TreeFiles::socket(d.unix_socket().ino())),
                           inst.who(d));
  inst.setFlags(temp, d);
  return temp;
}

void UnixSocketRestorer::ensure(FdInstaller& inst, uint64_t ino) {
  RestoreContext& ctx = inst.context();
  TreeFiles& tree = ctx.treeFiles();
  if (tree.has(TreeFiles::socket(ino))) return;
  const US& s = find(ctx, ino);
  std::string who = fmt::format("pid {}: socket:[{}]", ctx.pid(), ino);
  if (s.state() == US::CONNECTED && s.pending_on()) {
    // Made with the other connections that waited in the same backlog, in their order.
    ensure(inst, s.pending_on());
    if (!tree.has(TreeFiles::socket(ino)))
      fail("{}: its connection waited in the backlog of socket:[{}], which does not list it: "
           "the image is corrupt",
           who, s.pending_on());
    return;
  }
  if (s.state() == US::CONNECTED && s.peer_ino()) {
    const US& peer = find(ctx, s.peer_ino());
    if (peer.state() == US::CONNECTED && peer.peer_ino() == ino) {
      makePair(inst, s, &peer);
      return;
    }
    if (s.type() != SOCK_DGRAM)
      fail("{}: its peer socket:[{}] is not connected to it: the image is corrupt", who,
           s.peer_ino());
  } else if (s.state() == US::CONNECTED && s.peer_closed()) {
    makePair(inst, s, nullptr);
    return;
  }
  // A socket of its own: made, bound, refilled; then a datagram socket is connected.
  create(inst, s, who);
  if (s.state() == US::LISTENING) connectPending(inst, s, who);
  if (deferred(ctx, s)) return;  // finish() refills, connects and settles it
  int fd = tree.get(TreeFiles::socket(ino));
  if (s.queue_size() > 0) refillByName(inst, fd, s, who);
  connectAndSettle(inst, fd, s, who);
}

void UnixSocketRestorer::connectAndSettle(FdInstaller& inst, int fd, const US& s,
                                          const std::string& who) {
  RestoreContext& ctx = inst.context();
  if (s.state() == US::CONNECTED) {
    sockaddr_un sa{};
    socklen_t len = 0;
    std::string target;
    if (s.peer_ino()) {
      const US& peer = find(ctx, s.peer_ino());
      ensure(inst, s.peer_ino());
      target = cryoPath(peer);
    } else {
      target = s.peer_name();
    }
    len = address(target, sa, who);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0)
      failErrno("{}: cannot connect it again to {}", who, printable(target));
  }
  settle(fd, s, who);
}

void UnixSocketRestorer::connectPending(FdInstaller& inst, const US& s, const std::string& who) {
  RestoreContext& ctx = inst.context();
  TreeFiles& tree = ctx.treeFiles();
  sockaddr_un sa{};
  socklen_t len = address(cryoPath(s), sa, who);
  for (uint64_t c : s.pending()) {
    const US& cs = find(ctx, c);
    std::string cwho = fmt::format("pid {}: socket:[{}]", ctx.pid(), c);
    if (cs.state() != US::CONNECTED || cs.pending_on() != s.ino() || cs.type() != s.type() ||
        tree.has(TreeFiles::socket(c)))
      fail("{}: listed in the backlog of socket:[{}], which it did not connect to: the image "
           "is corrupt",
           cwho, s.ino());
    // Non-blocking: a full backlog fails instead of waiting. Its own flags are set when a
    // description of it is installed.
    int fd = inst.high(static_cast<int>(
        inst.sys(cwho + ": socket(AF_UNIX)", SYS_socket, AF_UNIX,
                 static_cast<uint64_t>(cs.type()) | SOCK_CLOEXEC | SOCK_NONBLOCK)));
    if (ownsName(cs)) bindInProcess(inst, fd, cs, cwho);
    uint64_t addr = ctx.scratch().put(&sa, len);
    // (Left unconnected, to prove restore --verify sees the backlog.)
    if (!FaultPoint::skips("restore-pending-connections"))
      inst.sys(fmt::format("{}: connect to {} (a connection not accepted yet)", cwho,
                           printable(s.name())),
               SYS_connect, static_cast<uint64_t>(fd), addr, len);
    UniqueFd copy = ctx.takeFd(fd);
    ctx.closeInProcess(fd);
    if (cs.queue_size() > 0)
      fail("{}: data is queued for a client whose connection was not accepted yet: the image "
           "is corrupt",
           cwho);
    // Options after the connect: SO_PASSCRED set before it would give the client a name.
    settle(copy.get(), cs, cwho);
    tree.put(TreeFiles::socket(c), std::move(copy));
  }
}

void UnixSocketRestorer::create(FdInstaller& inst, const US& s, const std::string& who) {
  RestoreContext& ctx = inst.context();
  int fd = inst.high(static_cast<int>(inst.sys(who + ": socket(AF_UNIX)", SYS_socket, AF_UNIX,
                                               static_cast<uint64_t>(s.type()) | SOCK_CLOEXEC)));
  if (ownsName(s)) bindInProcess(inst, fd, s, who);
  if (s.state() == US::LISTENING)
    inst.sys(fmt::format("{}: listen({})", who, s.backlog()), SYS_listen,
             static_cast<uint64_t>(fd), s.backlog());
  ctx.treeFiles().put(TreeFiles::socket(s.ino()), ctx.takeFd(fd));
  ctx.closeInProcess(fd);
}

void UnixSocketRestorer::bindInProcess(FdInstaller& inst, int fd, const US& s,
                                       const std::string& who) {
  RestoreContext& ctx = inst.context();
  if (isPath(s.name())) {
    // The dead original's socket file may still be there: removed if it is a socket no live
    // socket is bound to.
    std::string path = cryoPath(s);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode))
        fail("{}: {} exists and is not a socket; cannot bind the socket there again", who, path);
      for (const UnixDiag& u : SockDiag().unixSockets())
        if (u.hasVfs && u.vfsIno == st.st_ino && u.vfsDev == st.st_dev)
          fail("{}: {} is the socket of a live process (socket:[{}]); cannot bind there", who,
               path, u.ino);
      if (::unlink(path.c_str()) != 0) failErrno("{}: cannot remove the stale socket {}", who, path);
      spdlog::debug("{}: removed the stale socket file {}", who, path);
    }
  }
  sockaddr_un sa{};
  socklen_t len = address(s.name(), sa, who);
  RemoteScratch& sc = ctx.scratch();
  uint64_t addr = sc.put(&sa, len);
  RemoteSyscalls& rs = inst.syscalls();
  long r;
  if (!s.bind_dir().empty()) {
    // Bound by a relative name: bound again from the same directory, so that getsockname
    // reports the same name.
    uint64_t dir = sc.putString(s.bind_dir());
    uint64_t dot = sc.putString(".");
    int cwd = static_cast<int>(inst.sys(who + ": open .", SYS_openat,
                                        static_cast<uint64_t>(AT_FDCWD), dot,
                                        O_PATH | O_DIRECTORY | O_CLOEXEC));
    long ch = rs.call(SYS_chdir, dir);
    r = ch < 0 ? ch : rs.call(SYS_bind, static_cast<uint64_t>(fd), addr, len);
    inst.sys(who + ": fchdir back", SYS_fchdir, static_cast<uint64_t>(cwd));
    inst.sys(who + ": close", SYS_close, static_cast<uint64_t>(cwd));
    if (ch < 0)
      throw SysError(fmt::format("{}: cannot enter {} to bind {}", who, s.bind_dir(), s.name()),
                     static_cast<int>(-ch));
  } else {
    r = rs.call(SYS_bind, static_cast<uint64_t>(fd), addr, len);
  }
  if (r < 0)
    throw SysError(fmt::format("{}: cannot bind it to {}", who, printable(s.name())),
                   static_cast<int>(-r));
}

void UnixSocketRestorer::makePair(FdInstaller& inst, const US& a, const US* b) {
  RestoreContext& ctx = inst.context();
  std::string whoA = fmt::format("pid {}: socket:[{}]", ctx.pid(), a.ino());
  std::string whoB = b ? fmt::format("pid {}: socket:[{}]", ctx.pid(), b->ino())
                       : whoA + " (its closed peer)";
  RemoteScratch& sc = ctx.scratch();
  uint64_t arr = sc.alloc(2 * sizeof(int));
  inst.sys(whoA + ": socketpair", SYS_socketpair, AF_UNIX,
           static_cast<uint64_t>(a.type()) | SOCK_CLOEXEC, 0, arr);
  int ends[2];
  sc.read(arr, ends, sizeof ends);
  UniqueFd ca = ctx.takeFd(ends[0]);
  UniqueFd cb = ctx.takeFd(ends[1]);
  ctx.closeInProcess(ends[0]);
  ctx.closeInProcess(ends[1]);
  // Options first: the sender's buffer size bounds what a refill may queue.
  SocketOptions::apply(ca.get(), a.options(), whoA);
  if (b) SocketOptions::apply(cb.get(), b->options(), whoB);
  if (deferred(ctx, a)) {
    // finish() refills both queues and settles both ends; a closed peer is kept until then.
    ctx.treeFiles().put(TreeFiles::socket(a.ino()), std::move(ca));
    ctx.treeFiles().put(b ? TreeFiles::socket(b->ino()) : closedPeerKey(a.ino()), std::move(cb));
    return;
  }
  sendQueue(inst, cb.get(), a, whoA);
  if (b) sendQueue(inst, ca.get(), *b, whoB);
  settle(ca.get(), a, whoA);
  if (b) settle(cb.get(), *b, whoB);
  ctx.treeFiles().put(TreeFiles::socket(a.ino()), std::move(ca));
  if (b) ctx.treeFiles().put(TreeFiles::socket(b->ino()), std::move(cb));
  // Without b, cb closes here: `a` has lost its peer, as it had.
}

void UnixSocketRestorer::refillByName(FdInstaller& inst, int fd, const US& s,
                                      const std::string& who) {
  RestoreContext& ctx = inst.context();
  if (s.name().empty())
    fail("{}: data is queued in a socket without a name; cannot refill it", who);
  index(ctx);
  sockaddr_un to{};
  socklen_t toLen = address(cryoPath(s), to, who);
  UniqueFd own;
  SocketOptions::apply(fd, s.options(), who);  // its receive buffer
  for (const auto& m : s.queue()) {
    int from = -1;
    auto it = m.sender().empty() ? byName_.end() : byName_.find(m.sender());
    if (it != byName_.end() && it->second != s.ino()) {
      ensure(inst, it->second);
      from = ctx.treeFiles().get(TreeFiles::socket(it->second));
    } else {
      if (!m.sender().empty())
        spdlog::warn("{}: a queued datagram from {} (not in the tree) is refilled from an "
                     "unnamed socket",
                     who, printable(m.sender()));
      if (!own) {
        own.reset(::socket(AF_UNIX, s.type() | SOCK_CLOEXEC, 0));
        if (!own) failErrno("{}: cannot make a socket to refill its queue", who);
        int big = 4 << 20;
        ::setsockopt(own.get(), SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
      }
      from = own.get();
    }
    sendMessage(inst, from, m, false, &to, toLen, who);
  }
}

void UnixSocketRestorer::sendQueue(FdInstaller& inst, int from, const US& s,
                                   const std::string& who) {
  for (const auto& m : s.queue())
    sendMessage(inst, from, m, s.type() == SOCK_STREAM, nullptr, 0, who);
}

void UnixSocketRestorer::sendMessage(FdInstaller& inst, int from, const img::SocketMessage& m,
                                     bool stream, const sockaddr_un* to, unsigned toLen,
                                     const std::string& who) {
  // (Sent without its files, to prove restore --verify sees them.)
  if (m.files_size() == 0 || FaultPoint::skips("restore-files-in-flight")) {
    sendAll(from, m.data(), stream, to, toLen, who);
    return;
  }
  size_t done = files_.send(inst, from, m, to, toLen, who);
  if (done < m.data().size()) {
    if (!stream)
      fail("{}: cannot refill its receive queue: a message of {} bytes was cut", who,
           m.data().size());
    sendAll(from, m.data().substr(done), true, nullptr, 0, who);
  }
}

const US* UnixSocketRestorer::pairOf(RestoreContext& ctx, const US& s) {
  if (s.state() != US::CONNECTED || !s.peer_ino()) return nullptr;
  const US& peer = find(ctx, s.peer_ino());
  return peer.state() == US::CONNECTED && peer.peer_ino() == s.ino() ? &peer : nullptr;
}

bool UnixSocketRestorer::deferred(RestoreContext& ctx, const US& s) {
  const US& own = find(ctx, s.ino());
  if (carries(own)) return true;
  const US* pair = pairOf(ctx, own);
  return pair && carries(*pair);
}

void UnixSocketRestorer::finish(FdInstaller& inst) {
  RestoreContext& ctx = inst.context();
  index(ctx);
  TreeFiles& tree = ctx.treeFiles();
  const img::Tree& image = ctx.image().tree();
  // The last process that restores fds of its own: every file in flight exists by then.
  bool last = false;
  for (const auto& p : image.processes())
    if (!p.zombie() && !p.files_shared_with()) last = p.pid() == ctx.pid();
  for (const auto& [ino, s] : byIno_) {
    if (!carries(*s) || tree.has(refilledKey(ino))) continue;
    const US* pair = pairOf(ctx, *s);
    bool made = tree.has(TreeFiles::socket(ino)) &&
                (!pair || tree.has(TreeFiles::socket(pair->ino())));
    if (made && FilesInFlight::ready(ctx, *s) && (!pair || FilesInFlight::ready(ctx, *pair))) {
      refillDeferred(inst, *s);
    } else if (last) {
      fail("pid {}: socket:[{}]: the files in flight in its queue could not be put back: the "
           "image is corrupt",
           ctx.pid(), ino);
    }
  }
}

void UnixSocketRestorer::refillDeferred(FdInstaller& inst, const US& s) {
  RestoreContext& ctx = inst.context();
  TreeFiles& tree = ctx.treeFiles();
  std::string who = fmt::format("pid {}: socket:[{}]", ctx.pid(), s.ino());
  int fd = tree.get(TreeFiles::socket(s.ino()));
  tree.put(refilledKey(s.ino()), UniqueFd());
  if (const US* pair = pairOf(ctx, s)) {
    std::string whoPeer = fmt::format("pid {}: socket:[{}]", ctx.pid(), pair->ino());
    int peer = tree.get(TreeFiles::socket(pair->ino()));
    tree.put(refilledKey(pair->ino()), UniqueFd());
    sendQueue(inst, peer, s, who);
    sendQueue(inst, fd, *pair, whoPeer);
    settle(fd, s, who);
    settle(peer, *pair, whoPeer);
    return;
  }
  if (s.state() == US::CONNECTED && s.peer_closed()) {
    UniqueFd peer = tree.take(closedPeerKey(s.ino()));
    if (!peer) fail("{}: its closed peer was not kept for its refill", who);
    sendQueue(inst, peer.get(), s, who);
    settle(fd, s, who);
    return;  // the peer closes here, as it was
  }
  refillByName(inst, fd, s, who);
  connectAndSettle(inst, fd, s, who);
}

void UnixSocketRestorer::settle(int fd, const US& s, const std::string& who) {
  SocketOptions::apply(fd, s.options(), who);
  if (s.peek_off() >= 0) SocketOptions::set(fd, SOL_SOCKET, SO_PEEK_OFF, s.peek_off(), who);
  // RCV_SHUTDOWN (1) and SEND_SHUTDOWN (2) are SHUT_RD + 1 and SHUT_WR + 1.
  uint32_t mask = s.shutdown() & 3;
  if (mask && s.state() != US::LISTENING && ::shutdown(fd, static_cast<int>(mask) - 1) != 0 &&
      errno != ENOTCONN)
    failErrno("{}: shutdown", who);
}

}  // namespace cryo
