// FileFdRestorer: descriptions reopened by path: regular files and directories at their
// offset, character devices, FIFOs (with their buffered bytes), and files and FIFOs deleted
// while open, made again (DeletedFileMaker) and reopened at their offset.
#include "restore/fds/FileFdRestorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/Error.h"
#include "restore/DeletedFileMaker.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

namespace {

using FD = img::FileDescription;

constexpr uint32_t kNoCreate = O_CREAT | O_TRUNC | O_EXCL;

}  // namespace

bool FileFdRestorer::handles(FD::Kind kind) const {
  return kind == FD::REGULAR || kind == FD::DIRECTORY || kind == FD::CHARDEV ||
         kind == FD::FIFO || kind == FD::DELETED_FILE || kind == FD::DELETED_FIFO;
}

void FileFdRestorer::validate(RestoreContext& ctx, const FD& d) {
  std::string where = fmt::format("pid {}: fd of {}", ctx.pid(), d.description());
  struct stat st {};
  switch (d.kind()) {
    case FD::REGULAR:
      if (::stat(d.path().c_str(), &st) != 0) failErrno("{}: cannot reopen {}", where, d.path());
      if (!S_ISREG(st.st_mode)) fail("{}: {} is no longer a regular file", where, d.path());
      if (static_cast<uint64_t>(st.st_size) < d.pos() && !(d.flags() & O_APPEND))
        fail("{}: file {} is {} bytes, shorter than the saved offset {}", where, d.path(),
             st.st_size, d.pos());
      break;
    case FD::DIRECTORY:
    case FD::CHARDEV:
    case FD::FIFO:
      if (::stat(d.path().c_str(), &st) != 0) failErrno("{}: cannot reopen {}", where, d.path());
      if ((d.kind() == FD::DIRECTORY && !S_ISDIR(st.st_mode)) ||
          (d.kind() == FD::CHARDEV && !S_ISCHR(st.st_mode)) ||
          (d.kind() == FD::FIFO && !S_ISFIFO(st.st_mode)))
        fail("{}: {} is no longer of the same type", where, d.path());
      break;
    case FD::DELETED_FILE:
    case FD::DELETED_FIFO:
      DeletedFileMaker::validate(ctx, d.file(), d.path(), where);
      break;
    default:
      break;
  }
}

int FileFdRestorer::open(FdInstaller& inst, const FD& d) {
  RestoreContext& ctx = inst.context();
  int temp = -1;
  switch (d.kind()) {
    case FD::FIFO: {
      // Hold both ends first so that the real open cannot block.
      int both = ctx.openInProcess(d.path(), O_RDWR | O_NONBLOCK);
      temp = ctx.openInProcess(d.path(), static_cast<int>(d.flags() | O_NONBLOCK));
      inst.setFlags(temp, d);
      inst.fill(both, d.pipe_data(), d);
      ctx.closeInProcess(both);
      return temp;
    }
    case FD::DELETED_FIFO:
      // (cryo holds both ends of the FIFO it made: the open cannot block.)
      temp = DeletedFileMaker::openFifo(ctx, d, static_cast<int>(d.flags() | O_NONBLOCK),
                                        inst.who(d));
      inst.setFlags(temp, d);
      return temp;
    case FD::DELETED_FILE:
      temp = DeletedFileMaker::openFile(ctx, d.file(), d.path(),
                                        static_cast<int>(d.flags() & ~kNoCreate), inst.who(d),
                                        &d.contents());
      inst.seek(temp, d);
      return temp;
    default:
      temp = ctx.openInProcess(d.path(), static_cast<int>(d.flags() & ~kNoCreate));
      inst.seek(temp, d);
      return temp;
  }
}

}  // namespace cryo
