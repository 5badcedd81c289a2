// InotifyFdDumper: inotify instances ("anon_inode:inotify"): every watch (wd, mask, and the
// path of the watched inode, found from its file handle); refused with events queued unread.
#include "dump/fds/InotifyFdDumper.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <vector>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {

// One "inotify wd:1 ino:2 sdev:800001 mask:400 ... fhandle-bytes:8 fhandle-type:1 f_handle:..."
// line of fdinfo.
struct WatchLine {
  int wd = 0;
  uint64_t ino = 0;
  dev_t dev = 0;  // sdev is the kernel's encoding: major << 20 | minor
  uint32_t mask = 0;
  int handleType = 0;
  std::vector<unsigned char> handle;
};

std::vector<WatchLine> parseWatches(const std::string& fdinfo, const std::string& who) {
  std::vector<WatchLine> out;
  std::istringstream in(fdinfo);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("inotify ", 0) != 0) continue;
    WatchLine w;
    std::istringstream words(line.substr(8));
    for (std::string word; words >> word;) {
      size_t colon = word.find(':');
      if (colon == std::string::npos) continue;
      std::string k = word.substr(0, colon), v = word.substr(colon + 1);
      if (k == "wd") w.wd = static_cast<int>(std::strtol(v.c_str(), nullptr, 10));
      else if (k == "ino") w.ino = std::strtoull(v.c_str(), nullptr, 16);
      else if (k == "sdev") {
        unsigned long s = std::strtoul(v.c_str(), nullptr, 16);
        w.dev = makedev(s >> 20, s & 0xfffff);
      } else if (k == "mask") w.mask = static_cast<uint32_t>(std::strtoul(v.c_str(), nullptr, 16));
      else if (k == "fhandle-type") w.handleType = static_cast<int>(std::strtol(v.c_str(), nullptr, 16));
      else if (k == "f_handle")
        for (size_t i = 0; i + 1 < v.size(); i += 2)
          w.handle.push_back(static_cast<unsigned char>(std::strtoul(v.substr(i, 2).c_str(), nullptr, 16)));
    }
    if (w.wd <= 0 || w.handle.empty())
      fail("{}: fdinfo shows a watch cryo cannot read ({}); cannot checkpoint it", who, line);
    out.push_back(std::move(w));
  }
  std::sort(out.begin(), out.end(), [](const WatchLine& a, const WatchLine& b) { return a.wd < b.wd; });
  return out;
}

// A mount point (as mountinfo escapes it: "\040" for a space) of the filesystem `dev`.
std::vector<std::string> mountsOf(dev_t dev) {
  std::vector<std::string> out;
  std::istringstream in(ProcFs::readFile("/proc/self/mountinfo"));
  std::string want = fmt::format("{}:{}", major(dev), minor(dev));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, devno, root, point;
    f >> id >> parent >> devno >> root >> point;
    if (devno != want) continue;
    std::string unescaped;
    for (size_t i = 0; i < point.size(); ++i) {
      if (point[i] == '\\' && i + 3 < point.size()) {
        unescaped += static_cast<char>(std::strtol(point.substr(i + 1, 3).c_str(), nullptr, 8));
        i += 3;
      } else {
        unescaped += point[i];
      }
    }
    out.push_back(unescaped);
  }
  return out;
}

bool sameInode(const struct stat& st, const WatchLine& w) {
  return st.st_ino == w.ino && st.st_dev == w.dev;
}

// The path of the watched inode (opened by its handle through a mount of its filesystem),
// checked to name that very inode now; a symlink watched itself (IN_DONT_FOLLOW) gets the flag
// back in `mask`.
std::string pathOf(const WatchLine& w, const std::string& who, uint32_t& mask) {
  std::vector<unsigned char> buf(sizeof(file_handle) + w.handle.size());
  auto* fh = reinterpret_cast<file_handle*>(buf.data());
  fh->handle_bytes = static_cast<unsigned>(w.handle.size());
  fh->handle_type = w.handleType;
  std::memcpy(buf.data() + sizeof(file_handle), w.handle.data(), w.handle.size());
  for (const std::string& point : mountsOf(w.dev)) {
    // (Not O_PATH: open_by_handle_at takes no O_PATH fd for its mount.)
    UniqueFd mnt(::open(point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!mnt) continue;
    UniqueFd file(::open_by_handle_at(mnt.get(), fh, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!file) continue;
    std::string path = ProcFs::readLink(fmt::format("/proc/self/fd/{}", file.get()));
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && sameInode(st, w)) {
      if (S_ISLNK(st.st_mode)) mask |= IN_DONT_FOLLOW;
      return path;
    }
  }
  fail("{}: watch {} is on inode {} of device {}:{}, which no path names now (deleted, or on "
       "a filesystem not mounted here); cannot checkpoint it",
       who, w.wd, w.ino, major(w.dev), minor(w.dev));
}

}  // namespace

void InotifyFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                           img::FileDescription& d) {
  std::string who = fmt::format("pid {}: fd {} (inotify)", ctx.pid(), f.fd);
  UniqueFd copy = ctx.takeFd(f.fd);
  int queued = 0;
  if (::ioctl(copy.get(), FIONREAD, &queued) != 0) failErrno("{}: FIONREAD", who);
  if (queued > 0)
    fail("{}: {} bytes of events are queued unread in it: unread inotify events are not "
         "supported (they cannot be queued again); cannot checkpoint it",
         who, queued);
  d.set_kind(img::FileDescription::INOTIFY);
  img::Inotify& in = *d.mutable_inotify();
  std::string info = ProcFs::readFile(ProcFs::path(ctx.pid(), fmt::format("fdinfo/{}", f.fd)));
  for (const WatchLine& w : parseWatches(info, who)) {
    img::InotifyWatch* out = in.add_watches();
    uint32_t mask = w.mask;
    out->set_path(pathOf(w, who, mask));
    out->set_wd(w.wd);
    out->set_mask(mask);
  }
}

}  // namespace cryo
