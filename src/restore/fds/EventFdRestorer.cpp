// EventFdRestorer: eventfd descriptors created again (eventfd2) with their counter and
// semaphore flag.
#include "restore/fds/EventFdRestorer.h"

#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

bool EventFdRestorer::handles(img::FileDescription::Kind kind) const {
  return kind == img::FileDescription::EVENTFD;
}

int EventFdRestorer::open(FdInstaller& inst, const img::FileDescription& d) {
  const img::EventFd& e = d.eventfd();
  // eventfd2 takes an unsigned int; a larger counter is written in afterwards.
  bool fits = e.count() <= UINT_MAX;
  uint64_t flags = EFD_CLOEXEC | (e.semaphore() ? EFD_SEMAPHORE : 0);
  int fd = inst.high(static_cast<int>(inst.sys(inst.who(d) + ": eventfd2", SYS_eventfd2,
                                               fits ? e.count() : 0, flags)));
  if (!fits) {
    UniqueFd copy = inst.context().takeFd(fd);
    uint64_t v = e.count();
    if (::write(copy.get(), &v, sizeof v) != sizeof v)
      failErrno("{}: cannot set the eventfd counter to {}", inst.who(d), v);
  }
  inst.setFlags(fd, d);
  return fd;
}

}  // namespace cryo
