// SignalFdRestorer: signalfd descriptors created again (signalfd4) for the same set of
// signals.
#include "restore/fds/SignalFdRestorer.h"

#include <sys/signalfd.h>
#include <sys/syscall.h>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

bool SignalFdRestorer::handles(img::FileDescription::Kind kind) const {
  return kind == img::FileDescription::SIGNALFD;
}

int SignalFdRestorer::open(FdInstaller& inst, const img::FileDescription& d) {
  uint64_t mask = d.signalfd().mask();
  uint64_t maskAddr = inst.context().scratch().putValue(mask);
  int fd = inst.high(static_cast<int>(
      inst.sys(fmt::format("{}: signalfd4 (mask {:#x})", inst.who(d), mask), SYS_signalfd4,
               static_cast<uint64_t>(-1), maskAddr, sizeof mask, SFD_CLOEXEC)));
  inst.setFlags(fd, d);
  return fd;
}

}  // namespace cryo
