// FileFdDumper: fds that name a path: regular files (the path must still name the very file
// that is open), files deleted while open (contents stored), directories, character devices
// (a terminal on a standard stream is INHERITED) and FIFOs with their buffered bytes.
#include "dump/fds/FileFdDumper.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/Error.h"
#include "dump/DumpContext.h"
#include "dump/fds/PipeFdDumper.h"

namespace cryo {

namespace {

constexpr uint64_t kMaxDeletedFile = 64ull << 20;

bool endsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string fileContents(DumpContext& ctx, const OpenFd& f) {
  if (static_cast<uint64_t>(f.st.st_size) > kMaxDeletedFile)
    fail("pid {}: fd {} ({}): a deleted file of {} bytes is larger than the {} bytes cryo stores",
         ctx.pid(), f.fd, f.link, f.st.st_size, kMaxDeletedFile);
  UniqueFd src = ctx.takeFd(f.fd);
  std::string out(static_cast<size_t>(f.st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(src.get(), out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      failErrno("pid {}: fd {} ({}): cannot read the deleted file (opened without read access?)",
                ctx.pid(), f.fd, f.link);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace

bool FileFdDumper::claims(const OpenFd& f) const { return !f.link.empty() && f.link[0] == '/'; }

void FileFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                        img::FileDescription& d) {
  pid_t pid = ctx.pid();
  const std::string& l = f.link;
  auto unsupported = [&](const char* what) {
    fail("pid {}: fd {} ({}): {} not supported yet", pid, f.fd, l, what);
  };
  if (l.rfind("/memfd:", 0) == 0) unsupported("memfd files are");
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
    if (endsWith(l, " (deleted)")) unsupported("deleted directories are");
    d.set_kind(img::FileDescription::DIRECTORY);
    d.set_path(l);
  } else if (S_ISFIFO(f.st.st_mode)) {
    if (endsWith(l, " (deleted)")) unsupported("deleted FIFOs are");
    d.set_kind(img::FileDescription::FIFO);
    d.set_path(l);
    d.set_pipe_ino(f.st.st_ino);
    uint32_t acc = f.flags & O_ACCMODE;
    if ((acc == O_RDONLY || acc == O_RDWR) && fifoDataTaken_.insert(f.st.st_ino).second) {
      UniqueFd copy = ctx.takeFd(f.fd);
      d.set_pipe_data(
          PipeFdDumper::bufferedBytes(ctx, f.fd, ::fcntl(copy.get(), F_GETPIPE_SZ)));
    }
  } else if (S_ISREG(f.st.st_mode)) {
    if (f.st.st_nlink == 0 || endsWith(l, " (deleted)")) {
      d.set_kind(img::FileDescription::DELETED_FILE);
      d.set_path(endsWith(l, " (deleted)") ? l.substr(0, l.size() - 10) : l);
      d.set_contents(fileContents(ctx, f));
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

}  // namespace cryo
