// SignalFdDumper: signalfd descriptors ("anon_inode:[signalfd]"): the set of signals they
// read, from /proc/PID/fdinfo. The signals pending at the dump belong to the task's threads
// and process (SignalsCollector, ThreadsCollector), not to the fd.
#include "dump/fds/SignalFdDumper.h"

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

void SignalFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                          img::FileDescription& d) {
  auto info = ProcFs::fdInfo(ctx.pid(), f.fd);
  auto mask = info.find("sigmask");
  char* end = nullptr;
  uint64_t bits = mask == info.end() ? 0 : std::strtoull(mask->second.c_str(), &end, 16);
  if (mask == info.end() || end == mask->second.c_str())
    fail("pid {}: fd {} ({}): fdinfo shows no sigmask; cannot checkpoint it", ctx.pid(), f.fd,
         f.link);
  d.set_kind(img::FileDescription::SIGNALFD);
  d.mutable_signalfd()->set_mask(bits);
}

}  // namespace cryo
