// PipeFdRestorer: anonymous pipes with both ends in the task: one pipe per saved pipe inode,
// sized as it was and refilled with its buffered bytes; each description gets its end.
#include "restore/fds/PipeFdRestorer.h"

#include <fcntl.h>
#include <sys/syscall.h>

#include <algorithm>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

using FD = img::FileDescription;

bool PipeFdRestorer::handles(FD::Kind kind) const { return kind == FD::PIPE; }

int PipeFdRestorer::open(FdInstaller& inst, const FD& d) {
  RestoreContext& ctx = inst.context();
  auto it = pipes_.find(d.pipe_ino());
  if (it == pipes_.end()) {
    RemoteScratch& s = ctx.scratch();
    uint64_t arr = s.alloc(8);
    inst.sys(inst.who(d) + ": pipe2", SYS_pipe2, arr, O_CLOEXEC);
    int ends[2];
    s.read(arr, ends, sizeof ends);
    int r = inst.high(ends[0]), w = inst.high(ends[1]);
    uint32_t size = 0;
    for (const auto& o : inst.process().files())
      if (o.kind() == FD::PIPE && o.pipe_ino() == d.pipe_ino()) size = std::max(size, o.pipe_size());
    if (size) inst.syscalls().call(SYS_fcntl, static_cast<uint64_t>(w), F_SETPIPE_SZ, size);
    it = pipes_.emplace(d.pipe_ino(), std::make_pair(r, w)).first;
  }
  // Buffered bytes are stored with the read end.
  if (!d.pipe_data().empty()) inst.fill(it->second.second, d.pipe_data(), d);
  int end = (d.flags() & O_ACCMODE) == O_WRONLY ? it->second.second : it->second.first;
  inst.setFlags(end, d);
  // The ends stay held until finish(): hand out a copy for the files restorer to close.
  return static_cast<int>(inst.sys(inst.who(d) + ": fcntl(F_DUPFD_CLOEXEC)", SYS_fcntl,
                                   static_cast<uint64_t>(end), F_DUPFD_CLOEXEC,
                                   static_cast<uint64_t>(ctx.highFd())));
}

void PipeFdRestorer::finish(FdInstaller& inst) {
  for (auto& [ino, ends] : pipes_) {
    inst.context().closeInProcess(ends.first);
    inst.context().closeInProcess(ends.second);
  }
  pipes_.clear();
}

}  // namespace cryo
