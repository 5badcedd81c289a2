// EpollFdRestorer: epoll instances created again (epoll_create1) and, once every other fd of
// the process exists, given their interest lists back (EPOLL_CTL_ADD of the same fd numbers
// with the same events and data; an entry whose file had left its fd number is added under
// that number through a copy of the file placed there for the time of the call).
#include "restore/fds/EpollFdRestorer.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

bool EpollFdRestorer::handles(img::FileDescription::Kind kind) const {
  return kind == img::FileDescription::EPOLL;
}

int EpollFdRestorer::open(FdInstaller& inst, const img::FileDescription& d) {
  int fd = inst.high(static_cast<int>(
      inst.sys(inst.who(d) + ": epoll_create1", SYS_epoll_create1, EPOLL_CLOEXEC)));
  inst.setFlags(fd, d);
  return fd;
}

void EpollFdRestorer::add(FdInstaller& inst, const img::FileDescription& d, int epfd,
                          const img::EpollTarget& t) {
  epoll_event ev{};  // packed on x86_64: the layout the kernel reads
  ev.events = t.events();
  ev.data.u64 = t.data();
  uint64_t evAddr = inst.context().scratch().putValue(ev);
  inst.sys(fmt::format("{}: epoll_ctl(EPOLL_CTL_ADD, fd {}, events {:#x})", inst.who(d), t.fd(),
                       t.events()),
           SYS_epoll_ctl, static_cast<uint64_t>(epfd), EPOLL_CTL_ADD,
           static_cast<uint64_t>(t.fd()), evAddr);
}

void EpollFdRestorer::addStale(FdInstaller& inst, const img::FileDescription& d, int epfd,
                               const img::EpollTarget& t) {
  std::string who = fmt::format("{}: the entry of fd {} (its file now at fd {})", inst.who(d),
                                t.fd(), t.held_at());
  auto fd = static_cast<uint64_t>(t.fd());
  // Whatever the number holds now is set aside, and put back with its close-on-exec bit.
  long flags = inst.context().leaderSyscalls().call(SYS_fcntl, fd, F_GETFD);
  int aside = flags >= 0 ? inst.high(t.fd()) : -1;  // (numbers of the image are below high)
  inst.sys(who + ": dup3 onto the number", SYS_dup3, static_cast<uint64_t>(t.held_at()), fd, 0);
  add(inst, d, t.fd() == epfd ? aside : epfd, t);  // (the epoll itself may have been set aside)
  if (aside >= 0) {
    inst.sys(who + ": dup3 back", SYS_dup3, static_cast<uint64_t>(aside), fd,
             (flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
    inst.sys(who + ": close", SYS_close, static_cast<uint64_t>(aside));
  } else {
    inst.sys(who + ": close", SYS_close, fd);
  }
}

void EpollFdRestorer::finish(FdInstaller& inst) {
  for (const auto& d : inst.process().files()) {
    if (d.kind() != img::FileDescription::EPOLL) continue;
    int epfd = inst.firstFd(d);
    if (epfd < 0) continue;
    for (const auto& t : d.epoll().targets()) {
      if (t.stale())
        addStale(inst, d, epfd, t);
      else
        add(inst, d, epfd, t);
    }
  }
}

}  // namespace cryo
