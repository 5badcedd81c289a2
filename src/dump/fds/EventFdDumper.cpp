// EventFdDumper: eventfd descriptors ("anon_inode:[eventfd]"): the counter and the semaphore
// flag, read from /proc/PID/fdinfo (status flags are the description's own).
#include "dump/fds/EventFdDumper.h"

#include <fcntl.h>
#include <sys/eventfd.h>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

void EventFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                         img::FileDescription& d) {
  auto info = ProcFs::fdInfo(ctx.pid(), f.fd);
  auto count = info.find("eventfd-count");
  if (count == info.end())
    fail("pid {}: fd {} ({}): fdinfo shows no eventfd-count; cannot checkpoint it", ctx.pid(),
         f.fd, f.link);
  img::EventFd* e = d.mutable_eventfd();
  d.set_kind(img::FileDescription::EVENTFD);
  e->set_count(std::strtoull(count->second.c_str(), nullptr, 16));
  auto sem = info.find("eventfd-semaphore");
  if (sem != info.end()) {
    e->set_semaphore(std::strtol(sem->second.c_str(), nullptr, 10) != 0);
  } else {
    // Kernels before 6.7 have no such line: fall back on the file's flags field (an eventfd is
    // always O_RDWR, so the EFD_SEMAPHORE bit there can only mean the flag). Mainline keeps
    // just O_NONBLOCK and O_CLOEXEC of eventfd2's flags there, so a semaphore may then go
    // unnoticed: say so.
    uint32_t flags = static_cast<uint32_t>(std::strtoul(info["flags"].c_str(), nullptr, 8));
    bool semaphore = (flags & EFD_SEMAPHORE) != 0;
    e->set_semaphore(semaphore);
    if (!semaphore)
      spdlog::warn("pid {}: fd {} (eventfd): this kernel does not show whether it is a "
                   "semaphore (EFD_SEMAPHORE); it is restored as a plain counter",
                   ctx.pid(), f.fd);
  }
}

}  // namespace cryo
