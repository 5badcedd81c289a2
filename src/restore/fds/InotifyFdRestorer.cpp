// InotifyFdRestorer: inotify instances created again with every watch on its path and mask,
// under its saved watch descriptor (holes left by removed watches reproduced with placeholder
// watches added and removed).
#include "restore/fds/InotifyFdRestorer.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "common/Error.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

namespace {

// Files to watch in place of removed watches, each a distinct inode (a second watch on one
// inode would reuse its wd); removed with their directory at the end.
class Placeholders {
 public:
  ~Placeholders() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string next(const std::string& who) {
    if (dir_.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "cryo-inotify-XXXXXX").string();
      if (!::mkdtemp(tmpl.data())) failErrno("{}: cannot make a directory for placeholder watches", who);
      dir_ = tmpl;
    }
    std::string path = dir_ + "/" + std::to_string(count_++);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) failErrno("{}: cannot create placeholder {}", who, path);
    ::close(fd);
    return path;
  }

 private:
  std::string dir_;
  size_t count_ = 0;
};

int addWatch(int fd, const std::string& path, uint32_t mask, const std::string& who) {
  int wd = ::inotify_add_watch(fd, path.c_str(), mask);
  if (wd < 0) failErrno("{}: cannot watch {} (mask {:#x})", who, path, mask);
  return wd;
}

// Reads away what the instance queued while it was rebuilt (IN_IGNORED of the placeholders).
void drain(int fd, const std::string& who) {
  std::vector<char> buf(65536);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    failErrno("{}: cannot empty its queue", who);
  }
}

void rebuild(int fd, const img::Inotify& in, const std::string& who) {
  Placeholders placeholders;
  std::vector<int> holes;
  int next = 1;  // a new instance hands out wd 1, 2, ... in turn
  for (const auto& w : in.watches()) {
    if (w.wd() < next) fail("{}: watch {} is out of order in the image: it is corrupt", who, w.wd());
    for (; next < w.wd(); ++next) {
      int wd = addWatch(fd, placeholders.next(who), IN_DELETE_SELF, who);
      if (wd != next) fail("{}: a placeholder watch got wd {}, not {}", who, wd, next);
      holes.push_back(wd);
    }
    int wd = addWatch(fd, w.path(), w.mask(), who);
    if (wd != w.wd())
      fail("{}: {} is watched as wd {}, not {} (the path now names an inode watched under "
           "another wd?)",
           who, w.path(), wd, w.wd());
    ++next;
  }
  for (int wd : holes)
    if (::inotify_rm_watch(fd, wd) != 0) failErrno("{}: cannot remove placeholder watch {}", who, wd);
  drain(fd, who);
}

}  // namespace

bool InotifyFdRestorer::handles(img::FileDescription::Kind kind) const {
  return kind == img::FileDescription::INOTIFY;
}

void InotifyFdRestorer::validate(RestoreContext& ctx, const img::FileDescription& d) {
  for (const auto& w : d.inotify().watches()) {
    struct stat st {};
    if (::lstat(w.path().c_str(), &st) != 0)
      failErrno("pid {}: inotify description {}: watch {} is on {}, which cannot be found",
                ctx.pid(), d.id(), w.wd(), w.path());
  }
}

int InotifyFdRestorer::open(FdInstaller& inst, const img::FileDescription& d) {
  // Non-blocking until its queue is emptied; the saved flags are set last.
  int fd = inst.high(static_cast<int>(
      inst.sys(inst.who(d) + ": inotify_init1", SYS_inotify_init1, IN_CLOEXEC | IN_NONBLOCK)));
  UniqueFd copy = inst.context().takeFd(fd);
  rebuild(copy.get(), d.inotify(), inst.who(d));
  inst.setFlags(fd, d);
  return fd;
}

}  // namespace cryo
