// FileFdRestorer: descriptions reopened by path: regular files and directories at their
// offset, character devices, FIFOs (with their buffered bytes) and deleted files recreated as
// anonymous files (O_TMPFILE) refilled with their contents.
#include "restore/fds/FileFdRestorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

namespace {

using FD = img::FileDescription;

constexpr uint32_t kNoCreate = O_CREAT | O_TRUNC | O_EXCL;

}  // namespace

bool FileFdRestorer::handles(FD::Kind kind) const {
  return kind == FD::REGULAR || kind == FD::DIRECTORY || kind == FD::CHARDEV ||
         kind == FD::FIFO || kind == FD::DELETED_FILE;
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
    case FD::DELETED_FILE: {
      auto dir = std::filesystem::path(d.path()).parent_path();
      if (!std::filesystem::is_directory(dir))
        fail("{}: directory {} (where the deleted file was) does not exist", where, dir.string());
      break;
    }
    default:
      break;
  }
}

// The file made anew has the owner and mode the deleted one had (not the restoring process's,
// nor its umask's).
void FileFdRestorer::restoreOwnerAndMode(RestoreContext& ctx, int fd, const FD& d,
                                         const std::string& who) {
  UniqueFd copy = ctx.takeFd(fd);
  if (d.file().has_uid() && d.file().has_gid() &&
      ::fchown(copy.get(), d.file().uid(), d.file().gid()) != 0)
    failErrno("{}: cannot give the recreated deleted file owner {}:{}", who, d.file().uid(),
              d.file().gid());
  if (::fchmod(copy.get(), d.file().mode() & 07777) != 0)
    failErrno("{}: cannot give the recreated deleted file mode {:o}", who, d.file().mode() & 07777);
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
    case FD::DELETED_FILE: {
      std::string dir = std::filesystem::path(d.path()).parent_path().string();
      int tmp = ctx.openInProcess(dir, O_TMPFILE | O_RDWR,
                                  static_cast<int>(d.file().mode() & 07777));
      inst.fill(tmp, d.contents(), d);
      restoreOwnerAndMode(ctx, tmp, d, inst.who(d));
      temp = ctx.openInProcess(fmt::format("/proc/self/fd/{}", tmp),
                               static_cast<int>(d.flags() & ~kNoCreate));
      ctx.closeInProcess(tmp);
      inst.seek(temp, d);
      return temp;
    }
    default:
      temp = ctx.openInProcess(d.path(), static_cast<int>(d.flags() & ~kNoCreate));
      inst.seek(temp, d);
      return temp;
  }
}

}  // namespace cryo
