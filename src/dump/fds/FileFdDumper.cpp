// FileFdDumper: fds that name a path: regular files (the path must still name the very file
// that is open), files deleted while open (contents stored once per inode, see DeletedFiles),
// directories, character devices (a terminal on a standard stream is INHERITED) and FIFOs,
// named or deleted, with their buffered bytes.
#include "dump/fds/FileFdDumper.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/Error.h"
#include "dump/DeletedFiles.h"
#include "dump/DumpContext.h"
#include "dump/fds/PipeFdDumper.h"

namespace cryo {

bool FileFdDumper::claims(const OpenFd& f) const { return !f.link.empty() && f.link[0] == '/'; }

void FileFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                        img::FileDescription& d) {
  pid_t pid = ctx.pid();
  const std::string& l = f.link;
  auto unsupported = [&](const char* what) {
    fail("pid {}: fd {} ({}): {} not supported yet", pid, f.fd, l, what);
  };
  if (l.rfind("/memfd:", 0) == 0) unsupported("memfd files are");
  bool deleted = DeletedFiles::shownDeleted(l);
  // A name removed from a file that other names still reach: made again apart, the task's
  // writes would no longer reach those names.
  if (deleted && f.st.st_nlink > 0 && (S_ISREG(f.st.st_mode) || S_ISFIFO(f.st.st_mode)))
    unsupported("files whose open name was removed while other hard links remain are");
  if (S_ISCHR(f.st.st_mode)) {
    bool tty = l.rfind("/dev/pts/", 0) == 0 || l.rfind("/dev/tty", 0) == 0 ||
               l == "/dev/console";
    if (tty && f.isStdio()) {
      d.set_kind(img::FileDescription::INHERITED);
      d.set_inherited_fd(f.fd);
    } else {
      d.set_kind(img::FileDescription::CHARDEV);
      d.set_path(l);
    }
  } else if (S_ISDIR(f.st.st_mode)) {
    if (deleted) unsupported("deleted directories are");
    d.set_kind(img::FileDescription::DIRECTORY);
    d.set_path(l);
  } else if (S_ISFIFO(f.st.st_mode)) {
    dumpFifo(ctx, f, deleted, d);
  } else if (S_ISREG(f.st.st_mode)) {
    if (deleted || f.st.st_nlink == 0) {
      d.set_kind(img::FileDescription::DELETED_FILE);
      d.set_path(DeletedFiles::liveName(l));
      // (Unless an earlier fd or mapping of the tree stored them.)
      if (auto data = DeletedFiles::store(ctx, fmt::format("fd/{}", f.fd), d.file(),
                                          fmt::format("pid {}: fd {} ({})", pid, f.fd, l)))
        *d.mutable_deleted_data() = std::move(*data);
    } else {
      struct stat named {};
      if (::stat(l.c_str(), &named) != 0 || named.st_ino != f.st.st_ino ||
          named.st_dev != f.st.st_dev)
        fail("pid {}: fd {} ({}): the path now names another file (replaced since it was "
             "opened); cannot checkpoint it",
             pid, f.fd, l);
      d.set_kind(img::FileDescription::REGULAR);
      d.set_path(l);
    }
  } else {
    unsupported("this kind of file is");
  }
}

// A named pipe, reopened by its path, or deleted (made again under its name): its buffered
// bytes are stored once for the tree, with the first description that can read them.
void FileFdDumper::dumpFifo(DumpContext& ctx, const OpenFd& f, bool deleted,
                            img::FileDescription& d) {
  d.set_kind(deleted ? img::FileDescription::DELETED_FIFO : img::FileDescription::FIFO);
  d.set_path(DeletedFiles::liveName(f.link));
  d.set_pipe_ino(f.st.st_ino);
  uint32_t acc = f.flags & O_ACCMODE;
  if ((acc != O_RDONLY && acc != O_RDWR) ||
      !ctx.fdIndex().claimOnce(fmt::format("fifo:{}:{}", f.st.st_dev, f.st.st_ino)))
    return;
  UniqueFd copy = ctx.takeFd(f.fd);
  int size = ::fcntl(copy.get(), F_GETPIPE_SZ);
  if (size < 0) failErrno("pid {}: fd {} ({}): F_GETPIPE_SZ", ctx.pid(), f.fd, f.link);
  d.set_pipe_size(static_cast<uint32_t>(size));
  d.set_pipe_data(PipeFdDumper::bufferedBytes(ctx, f.fd, size));
}

}  // namespace cryo
