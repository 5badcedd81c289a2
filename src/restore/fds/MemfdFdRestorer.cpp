// MemfdFdRestorer: memfd descriptors: the shared memory object, its data and its seals.
#include "restore/fds/MemfdFdRestorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

using FD = img::FileDescription;

bool MemfdFdRestorer::handles(FD::Kind kind) const { return kind == FD::MEMFD; }

int MemfdFdRestorer::open(FdInstaller& inst, const FD& d) {
  RestoreContext& ctx = inst.context();
  const img::MemFd& m = d.memfd();
  TreeFiles& tree = ctx.treeFiles();
  std::string key = TreeFiles::sharedMemory(m.ino());
  int temp = tree.has(key) ? ctx.receiveFd(tree.get(key), inst.who(d))
                           : ctx.createSharedMemfd(m.ino(), m.name(), m.size());
  int obj = tree.get(key);
  // A mapping may have made the object smaller than the file was.
  struct stat st {};
  if (::fstat(obj, &st) != 0) failErrno("{}: fstat of the memfd", inst.who(d));
  if (static_cast<uint64_t>(st.st_size) < m.size() && ::ftruncate(obj, static_cast<off_t>(m.size())) != 0)
    failErrno("{}: cannot size the memfd to {} bytes", inst.who(d), m.size());
  for (const img::MemFdExtent& x : m.extents()) {
    size_t done = 0;
    while (done < x.data().size()) {
      ssize_t n = ::pwrite(obj, x.data().data() + done, x.data().size() - done,
                           static_cast<off_t>(x.offset() + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) failErrno("{}: cannot write the memfd's data back", inst.who(d));
      done += static_cast<size_t>(n);
    }
  }
  inst.setFlags(temp, d);
  inst.seek(temp, d);
  if (m.seals()) sealed_.emplace_back(obj, &d);
  return temp;
}

void MemfdFdRestorer::finish(FdInstaller& inst) {
  for (const auto& [obj, d] : sealed_) {
    int have = ::fcntl(obj, F_GET_SEALS);
    uint32_t want = d->memfd().seals() & ~static_cast<uint32_t>(have > 0 ? have : 0);
    if (want && ::fcntl(obj, F_ADD_SEALS, want) != 0)
      failErrno("{}: cannot apply the memfd's seals {:#x}", inst.who(*d), d->memfd().seals());
  }
  sealed_.clear();
}

}  // namespace cryo
