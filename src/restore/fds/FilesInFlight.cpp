// FilesInFlight: the open files that ride with queued UNIX socket messages (SCM_RIGHTS) at
// restore: an fd of the tree, taken from the restored process that has it, or a regular file or
// pipe end that only the queue kept, made once like an fd of its kind; a message is sent again
// with them attached.
#include "restore/fds/FilesInFlight.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"
#include "restore/fds/FdRestorerRegistry.h"
#include "restore/fds/FileFdRestorer.h"

namespace cryo {

namespace {

using FD = img::FileDescription;

// The key under which TreeFiles keeps a file only in flight, by its id.
std::string aloneKey(uint64_t id) { return "inflight:" + std::to_string(id); }

// The place of `pid` among the live processes of the tree, in restore order (-1: none); of a
// process sharing the fd table of another, that other's, which restores its fds.
int restoreOrder(const img::Tree& tree, pid_t pid, int depth = 0) {
  int n = 0;
  for (const auto& p : tree.processes()) {
    if (p.zombie()) continue;
    if (p.pid() == pid)
      return p.files_shared_with() && depth < tree.processes_size()
                 ? restoreOrder(tree, p.files_shared_with(), depth + 1)
                 : n;
    ++n;
  }
  return -1;
}

}  // namespace

bool FilesInFlight::carried(const img::UnixSocket& s) {
  return std::any_of(s.queue().begin(), s.queue().end(),
                     [](const img::SocketMessage& m) { return m.files_size() > 0; });
}

bool FilesInFlight::ready(RestoreContext& ctx, const img::UnixSocket& s) {
  const img::Tree& tree = ctx.image().tree();
  int now = restoreOrder(tree, ctx.pid());
  for (const auto& m : s.queue())
    for (const auto& f : m.files())
      if (f.pid() != 0 && restoreOrder(tree, f.pid()) > now) return false;
  return true;
}

void FilesInFlight::index(RestoreContext& ctx) {
  if (indexed_) return;
  indexed_ = true;
  for (const auto& p : ctx.image().tree().processes())
    for (const auto& d : p.files())
      for (const auto& m : d.unix_socket().queue())
        for (const auto& f : m.files())
          if (f.pid() == 0 && f.has_file()) alone_.emplace(f.id(), &f.file());
}

void FilesInFlight::validate(RestoreContext& ctx, const img::UnixSocket& s,
                             const std::string& who) {
  index(ctx);
  const img::Tree& tree = ctx.image().tree();
  for (const auto& m : s.queue())
    for (const auto& f : m.files()) {
      if (f.pid() != 0) {
        if (restoreOrder(tree, f.pid()) < 0)
          fail("{}: a file in flight in its queue is pid {}'s fd {}, but the image holds no "
               "such process: it is corrupt",
               who, f.pid(), f.fd());
        continue;
      }
      auto it = alone_.find(f.id());
      if (it == alone_.end())
        fail("{}: file {} in flight in its queue is not described in the image: it is corrupt",
             who, f.id());
      const FD& file = *it->second;
      if (file.kind() == FD::REGULAR)
        FileFdRestorer().validate(ctx, file);
      else if (file.kind() != FD::PIPE)
        fail("{}: {} in flight in its queue is of a kind not restored in flight alone", who,
             file.description());
    }
}

size_t FilesInFlight::send(FdInstaller& inst, int from, const img::SocketMessage& m,
                           const sockaddr_un* to, socklen_t toLen, const std::string& who) {
  std::vector<UniqueFd> files;
  for (const auto& f : m.files()) files.push_back(take(inst, f, who));
  std::vector<char> control(CMSG_SPACE(sizeof(int) * files.size()));
  iovec iov{const_cast<char*>(m.data().data()), m.data().size()};
  msghdr h{};
  h.msg_name = const_cast<sockaddr_un*>(to);
  h.msg_namelen = to ? toLen : 0;
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  h.msg_control = control.data();
  h.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&h);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    int fd = files[i].get();
    std::memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof fd);
  }
  ssize_t n;
  do {
    n = ::sendmsg(from, &h, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    failErrno("{}: cannot refill its receive queue (a message of {} bytes with {} file(s) in "
              "flight)",
              who, m.data().size(), files.size());
  return static_cast<size_t>(n);
}

UniqueFd FilesInFlight::take(FdInstaller& inst, const img::InFlightFile& f,
                             const std::string& who) {
  RestoreContext& ctx = inst.context();
  if (f.pid() != 0) {
    // The tree's own description, where that process has it installed.
    auto& pidfd = pidfds_[f.pid()];
    if (!pidfd) pidfd = std::make_unique<PidFd>(f.pid());
    return pidfd->take(f.fd());
  }
  TreeFiles& tree = ctx.treeFiles();
  std::string key = aloneKey(f.id());
  if (!tree.has(key)) {
    // Kept alive by the queue alone: made here like an fd of its kind, then only in flight.
    index(ctx);
    auto it = alone_.find(f.id());
    if (it == alone_.end())
      fail("{}: file {} in flight in its queue is not described in the image: it is corrupt",
           who, f.id());
    const FD& d = *it->second;
    std::unique_ptr<FdRestorer> maker;
    for (auto& r : FdRestorerRegistry::all())
      if ((d.kind() == FD::REGULAR || d.kind() == FD::PIPE) && r->handles(d.kind())) {
        maker = std::move(r);
        break;
      }
    if (!maker) fail("{}: {} in flight in its queue cannot be made again", who, d.description());
    int temp = maker->open(inst, d);
    tree.put(key, ctx.takeFd(temp));
    ctx.closeInProcess(temp);
  }
  UniqueFd copy(::fcntl(tree.get(key), F_DUPFD_CLOEXEC, 0));
  if (!copy) failErrno("{}: cannot copy a file in flight", who);
  return copy;
}

}  // namespace cryo
