// PipeFdRestorer: anonymous pipes with both ends in the tree: one pipe per saved pipe inode,
// sized as it was and refilled with its buffered bytes; each description, in whichever
// process, gets its end.
#include "restore/fds/PipeFdRestorer.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

using FD = img::FileDescription;

bool PipeFdRestorer::handles(FD::Kind kind) const { return kind == FD::PIPE; }

int PipeFdRestorer::open(FdInstaller& inst, const FD& d) {
  RestoreContext& ctx = inst.context();
  TreeFiles& tree = ctx.treeFiles();
  const int endNo = (d.flags() & O_ACCMODE) == O_WRONLY ? 1 : 0;
  if (!tree.has(TreeFiles::pipeEnd(d.pipe_ino(), 0))) {
    // The first description of this pipe in the tree: the pipe is made here; cryo keeps both
    // ends for the other descriptions (here or in other processes of the tree).
    RemoteScratch& s = ctx.scratch();
    uint64_t arr = s.alloc(8);
    inst.sys(inst.who(d) + ": pipe2", SYS_pipe2, arr, O_CLOEXEC);
    int ends[2];
    s.read(arr, ends, sizeof ends);
    if (d.pipe_size())
      inst.syscalls().call(SYS_fcntl, static_cast<uint64_t>(ends[1]), F_SETPIPE_SZ,
                           d.pipe_size());
    for (int e = 0; e < 2; ++e) {
      tree.put(TreeFiles::pipeEnd(d.pipe_ino(), e), ctx.takeFd(ends[e]));
      ctx.closeInProcess(ends[e]);
    }
  }
  int temp = ctx.receiveFd(tree.get(TreeFiles::pipeEnd(d.pipe_ino(), endNo)), inst.who(d));
  // Buffered bytes are stored with one read end; written through cryo's write end.
  if (!d.pipe_data().empty())
    writeAll(tree.get(TreeFiles::pipeEnd(d.pipe_ino(), 1)), d.pipe_data(), inst.who(d));
  inst.setFlags(temp, d);
  return temp;
}

void PipeFdRestorer::writeAll(int fd, const std::string& data, const std::string& who) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failErrno("cannot refill the pipe of {}", who);
    done += static_cast<size_t>(n);
  }
}

}  // namespace cryo
