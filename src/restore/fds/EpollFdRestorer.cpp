// EpollFdRestorer: epoll instances created again (epoll_create1) and, once every other fd of
// the process exists, given their interest lists back (EPOLL_CTL_ADD of the same fd numbers
// with the same events and data).
#include "restore/fds/EpollFdRestorer.h"

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

void EpollFdRestorer::finish(FdInstaller& inst) {
  for (const auto& d : inst.process().files()) {
    if (d.kind() != img::FileDescription::EPOLL) continue;
    int epfd = inst.firstFd(d);
    if (epfd < 0) continue;
    for (const auto& t : d.epoll().targets()) {
      epoll_event ev{};  // packed on x86_64: the layout the kernel reads
      ev.events = t.events();
      ev.data.u64 = t.data();
      uint64_t evAddr = inst.context().scratch().putValue(ev);
      inst.sys(fmt::format("{}: epoll_ctl(EPOLL_CTL_ADD, fd {}, events {:#x})", inst.who(d),
                           t.fd(), t.events()),
               SYS_epoll_ctl, static_cast<uint64_t>(epfd), EPOLL_CTL_ADD,
               static_cast<uint64_t>(t.fd()), evAddr);
    }
  }
}

}  // namespace cryo
