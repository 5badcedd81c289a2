// UnixSocketDumper: AF_UNIX sockets (stream, datagram, seqpacket): name, peer (found with
// sock_diag; it must be held by the dumped tree), listening backlog and the connections
// waiting in it, shutdown state, socket options and the receive queue with the files in
// flight in it (read without consuming it, stored once per tree).
#include "dump/fds/UnixSocketDumper.h"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/SockDiag.h"
#include "dump/DumpContext.h"
#include "dump/fds/InFlightFiles.h"
#include "dump/fds/TreeFdIndex.h"

namespace cryo {

namespace {

using US = img::UnixSocket;

// A path name without its terminating NUL; an abstract name as it is.
std::string pathName(std::string name) {
  if (!name.empty() && name[0] != '\0')
    while (!name.empty() && name.back() == '\0') name.pop_back();
  return name;
}

std::string printable(const std::string& raw) {
  std::string name = pathName(raw);
  if (name.empty()) return "(unnamed)";
  if (name[0] == '\0') return std::string("@").append(name, 1);
  return name;
}

int intOpt(int fd, int level, int opt, const std::string& who, const char* what) {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, opt, &v, &len) != 0) failErrno("{}: getsockopt({})", who, what);
  return v;
}

// The socket's receive queue, read with MSG_PEEK from a peek offset (SO_PEEK_OFF) that moves
// along the queue; the task's own peek offset is put back afterwards.
class QueuePeek {
 public:
  QueuePeek(int fd, std::string who) : fd_(fd), who_(std::move(who)) {
    orig_ = intOpt(fd_, SOL_SOCKET, SO_PEEK_OFF, who_, "SO_PEEK_OFF");
    setOff(0);
  }
  ~QueuePeek() {
    int v = orig_;
    ::setsockopt(fd_, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v);
  }

  void setOff(int off) {
    if (::setsockopt(fd_, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off) != 0)
      failErrno("{}: setsockopt(SO_PEEK_OFF, {})", who_, off);
  }

  // Peeks the next chunk (a stream's next bytes, a datagram's whole message) into `buf`.
  // Returns the length (a datagram's full length, even if longer than buf), or -1 at the end
  // of the queue; the sender's name, if it had one, goes to `sender`, and cryo's copies of
  // the files in flight with it (SCM_RIGHTS) to `files`.
  ssize_t next(std::vector<char>& buf, std::string* sender, bool datagram,
               std::vector<UniqueFd>& files) {
    sockaddr_un from{};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(256)];
    iovec iov{buf.data(), buf.size()};
    msghdr m{};
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    ssize_t n;
    do {
      n = ::recvmsg(fd_, &m,
                    MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (datagram ? MSG_TRUNC : 0));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
    if (n < 0) failErrno("{}: cannot read its receive queue (recvmsg MSG_PEEK)", who_);
    files.clear();
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int got;
        std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
        files.emplace_back(got);
      }
    }
    if (m.msg_flags & MSG_CTRUNC)
      fail("{}: a message of its receive queue carries more control data than cryo reads; "
           "cannot checkpoint it",
           who_);
    if (sender) {
      sender->clear();
      if (m.msg_namelen > sizeof(sa_family_t))
        sender->assign(from.sun_path, m.msg_namelen - sizeof(sa_family_t));
    }
    return n;
  }

 private:
  int fd_;
  std::string who_;
  int orig_ = -1;
};

// Records the files in flight with message `m` (the `index`th of the queue).
size_t addFiles(DumpContext& ctx, const std::vector<UniqueFd>& files, const std::string& who,
                int index, img::SocketMessage& m) {
  std::string what = fmt::format("{}: message {} of its receive queue", who, index);
  for (const UniqueFd& f : files) InFlightFiles::describe(ctx, f, what, *m.add_files());
  return files.size();
}

// A stream's queue: its bytes. Files in flight in it are refused: they ride with the record
// they were sent with, and what peeking shows cannot tell that record apart from the bytes
// queued before it (a peek that ends in those bytes hands the files out too), while a read
// of those bytes alone would not get them.
void readStream(QueuePeek& peek, std::vector<char>& buf, const std::string& who, US& s) {
  std::string all;
  for (;;) {
    std::vector<UniqueFd> got;
    ssize_t n = peek.next(buf, nullptr, false, got);
    if (n <= 0) break;  // end of the queue (-1), or end of file (0)
    if (!got.empty())
      fail("{}: {} file descriptor(s) are in flight in the receive queue of this stream socket "
           "(SCM_RIGHTS), where the bytes they ride with cannot be told apart from the bytes "
           "before them without consuming the queue; cannot checkpoint it",
           who, got.size());
    all.append(buf.data(), static_cast<size_t>(std::min<ssize_t>(n, buf.size())));
    peek.setOff(static_cast<int>(all.size()));
  }
  if (!all.empty()) s.add_queue()->set_data(std::move(all));
}

// The receive queue; returns the number of files in flight in it.
size_t readQueue(DumpContext& ctx, const UniqueFd& copy, const UnixDiag& u,
                 const std::string& who, US& s) {
  QueuePeek peek(copy.get(), who);
  std::vector<char> buf(std::max<size_t>(65536, u.rqueue + 1));
  if (u.type == SOCK_STREAM) {
    readStream(peek, buf, who, s);
    return 0;
  }
  // Datagrams and seqpacket records: one message each, boundaries kept.
  size_t off = 0, files = 0;
  for (size_t count = 0;; ++count) {
    if (count > 1000000) fail("{}: its receive queue does not end", who);
    std::string sender;
    std::vector<UniqueFd> got;
    ssize_t n = peek.next(buf, &sender, true, got);
    if (n < 0) break;
    if (n == 0 && u.type == SOCK_SEQPACKET && (u.shutdown & 1) && got.empty()) break;  // EOF
    if (static_cast<size_t>(n) > buf.size()) {
      // Longer than the buffer: read it again whole.
      buf.resize(static_cast<size_t>(n));
      peek.setOff(static_cast<int>(off));
      --count;
      continue;
    }
    img::SocketMessage* m = s.add_queue();
    m->set_data(buf.data(), static_cast<size_t>(n));
    if (!sender.empty()) m->set_sender(pathName(sender));
    files += addFiles(ctx, got, who, s.queue_size(), *m);
    off += static_cast<size_t>(n);
    peek.setOff(static_cast<int>(off));
  }
  return files;
}

void saveOptions(int fd, const std::string& who, US& s) {
  struct {
    int level, name;
    const char* text;
  } const opts[] = {{SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED"},
                    {SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"},
                    {SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"}};
  for (const auto& o : opts) {
    img::SockOpt* so = s.add_options();
    so->set_level(o.level);
    so->set_name(o.name);
    so->set_value(intOpt(fd, o.level, o.name, who, o.text));
  }
}

}  // namespace

uint64_t UnixSocketDumper::pendingOn(SockDiag& diag, uint64_t client) {
  if (!pendingOn_) {
    pendingOn_.emplace();
    for (const UnixDiag& l : diag.unixSockets())
      if (l.state == TCP_LISTEN)
        for (uint64_t c : l.icons)
          if (c) (*pendingOn_)[c] = l.ino;
  }
  auto it = pendingOn_->find(client);
  return it == pendingOn_->end() ? 0 : it->second;
}

void UnixSocketDumper::refuseSent(const UnixDiag& client, const std::string& who,
                                  const std::string& listener) {
  if (client.wqueue == 0) return;
  fail("{}: the connection of socket:[{}] to listening socket {} waits in its backlog (not "
       "accepted yet) holding data the client sent ({} bytes of buffers): the queue of a "
       "connection not accepted yet cannot be read; cannot checkpoint it",
       who, client.ino, listener, client.wqueue);
}

void UnixSocketDumper::savePending(DumpContext& ctx, SockDiag& diag, const UnixDiag& u,
                                   const std::string& who, img::UnixSocket& s) {
  std::string name = printable(u.name);
  if (u.icons.size() != u.rqueue)
    fail("{}: listening socket {} has {} connection(s) waiting in its backlog, sock_diag "
         "lists {}; cannot checkpoint it",
         who, name, u.rqueue, u.icons.size());
  for (uint64_t c : u.icons) {
    if (c == 0)
      fail("{}: listening socket {} has a connection waiting in its backlog (not accepted yet) "
           "whose client was closed: what it sent cannot be read; cannot checkpoint it",
           who, name);
    if (!ctx.fdIndex().holdsInode(c))
      fail("{}: listening socket {} has a connection waiting in its backlog (not accepted yet) "
           "from socket:[{}], which is outside the dumped tree; cannot checkpoint it",
           who, name, c);
    auto client = diag.unixSocket(c);
    if (!client) fail("{}: sock_diag does not know socket:[{}], a client of {}", who, c, name);
    refuseSent(*client, who, name);
    s.add_pending(c);
  }
}

void UnixSocketDumper::notePending(DumpContext& ctx, SockDiag& diag, uint64_t listener,
                                   const UnixDiag& u, const std::string& who) {
  auto l = diag.unixSocket(listener);
  std::string name = l ? printable(l->name) : "(gone)";
  if (!ctx.fdIndex().holdsInode(listener))
    fail("{}: its connection waits in the backlog (not accepted yet) of listening socket "
         "socket:[{}] ({}), which is outside the dumped tree; cannot checkpoint it",
         who, listener, name);
  refuseSent(u, who, name);
}

bool UnixSocketDumper::peerInTree(DumpContext& ctx, SockDiag& diag, const OpenFd& f) {
  auto u = diag.unixSocket(f.st.st_ino);
  if (!u || !u->hasPeer) return false;
  // (A client waiting in a listener's backlog shows no peer: the listener counts.)
  uint64_t peer = u->peer ? u->peer : pendingOn(diag, u->ino);
  return peer && ctx.fdIndex().holdsInode(peer);
}

void UnixSocketDumper::dump(DumpContext& ctx, SockDiag& diag, const OpenFd& f,
                            const UniqueFd& copy, img::FileDescription& d) {
  pid_t pid = ctx.pid();
  std::string who = fmt::format("pid {}: fd {} ({})", pid, f.fd, f.link);
  auto found = diag.unixSocket(f.st.st_ino);
  if (!found) fail("{}: sock_diag does not know this UNIX socket; cannot checkpoint it", who);
  const UnixDiag& u = *found;
  if (u.type != SOCK_STREAM && u.type != SOCK_DGRAM && u.type != SOCK_SEQPACKET)
    fail("{}: UNIX sockets of type {} are not supported", who, u.type);
  d.set_kind(img::FileDescription::UNIX_SOCKET);
  US& s = *d.mutable_unix_socket();
  s.set_ino(u.ino);
  s.set_type(u.type);
  s.set_shutdown(u.shutdown);
  s.set_peek_off(-1);

  std::string name = pathName(u.name);
  if (!name.empty()) {
    s.set_name(name);
    if (name[0] != '\0') {
      // A filesystem name, as bound (maybe relative to the working directory of the time):
      // it must still name the very socket file.
      std::string dir;
      std::string path = name;
      if (path[0] != '/') {
        dir = ProcFs::readLink(ProcFs::path(pid, "cwd"));
        path = dir + "/" + path;
      }
      struct stat st {};
      if (!u.hasVfs || ::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode) ||
          st.st_ino != u.vfsIno || st.st_dev != u.vfsDev)
        fail("{}: bound to {}, which no longer names its socket file (removed or replaced "
             "since, or bound in another working directory); cannot checkpoint it",
             who, path);
      s.set_bind_dir(dir);
    }
  }

  auto info = ProcFs::fdInfo(pid, f.fd);
  auto it = info.find("scm_fds");
  unsigned long inFlight = it == info.end() ? 0 : std::strtoul(it->second.c_str(), nullptr, 10);
  if (u.state == TCP_LISTEN) {
    s.set_state(US::LISTENING);
    s.set_backlog(u.wqueue);
    savePending(ctx, diag, u, who, s);
    if (inFlight > 0)
      fail("{}: listening socket {}: {} file descriptor(s) are in flight in the connections "
           "waiting in its backlog (not accepted yet), whose queues cryo cannot read; cannot "
           "checkpoint it",
           who, printable(u.name), inFlight);
  } else if (u.hasPeer) {
    s.set_state(US::CONNECTED);
    if (u.peer == 0) {
      // The peer is gone (the kernel keeps a closed peer until this end goes), or is the
      // server side of a connection waiting in a listener's backlog.
      if (uint64_t on = pendingOn(diag, u.ino)) {
        notePending(ctx, diag, on, u, who);
        s.set_pending_on(on);
      } else {
        s.set_peer_closed(true);
      }
    } else if (ctx.fdIndex().holdsInode(u.peer)) {
      s.set_peer_ino(u.peer);
    } else {
      auto peer = diag.unixSocket(u.peer);
      if (u.type == SOCK_DGRAM && peer && !peer->name.empty() && peer->name[0] == '/' &&
          !peer->hasPeer) {
        // A datagram socket connected to a named socket of another process (/dev/log):
        // connected again by name.
        s.set_peer_name(pathName(peer->name));
      } else {
        fail("{}: its peer (socket:[{}]{}) is outside the dumped tree (held by another "
             "process, or a connection not accepted yet); cannot checkpoint it",
             who, u.peer, peer && !peer->name.empty() ? ", " + printable(peer->name) : "");
      }
    }
  } else {
    s.set_state(US::UNCONNECTED);
  }

  saveOptions(copy.get(), who, s);
  s.set_peek_off(intOpt(copy.get(), SOL_SOCKET, SO_PEEK_OFF, who, "SO_PEEK_OFF"));
  // A stream or seqpacket socket neither connected nor listening (bound or not) has no queue,
  // and recvmsg refuses it (EINVAL, ENOTCONN).
  bool hasQueue =
      s.state() == US::CONNECTED || (s.state() == US::UNCONNECTED && u.type == SOCK_DGRAM);
  if (hasQueue && ctx.fdIndex().claimOnce(fmt::format("unixq:{}", u.ino))) {
    s.set_queue_saved(true);
    size_t files = readQueue(ctx, copy, u, who, s);
    if (files != inFlight)
      fail("{}: fdinfo shows {} file descriptor(s) in flight in its receive queue, cryo found "
           "{} in it; cannot checkpoint it",
           who, inFlight, files);
    if (s.queue_size() > 0 && s.state() != US::CONNECTED && s.name().empty())
      fail("{}: data is queued in a socket that has neither a name nor a peer; cannot "
           "checkpoint it",
           who);
  }
}

}  // namespace cryo
