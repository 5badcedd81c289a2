// FilesCollector: the open file descriptors of a frozen process, grouped into the open file
// descriptions they share: regular files, directories, devices, pipes (with buffered bytes),
// FIFOs, deleted files (with contents) and inherited standard streams.
#include "dump/FilesCollector.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "common/Error.h"
#include "common/FileIdentity.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {

constexpr uint64_t kMaxDeletedFile = 64ull << 20;

struct FdInfo {
  int fd;
  std::string link;
  struct stat st;
  uint32_t flags;  // without O_CLOEXEC
  bool cloexec;
  uint64_t pos;
  uint32_t description = 0;
};

bool endsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}


// The bytes buffered in a pipe, read without consuming them (tee into a pipe of cryo's own).
std::string pipeContents(DumpContext& ctx, int fd, int pipeSize) {
  UniqueFd src = ctx.takeFd(fd);
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) failErrno("pipe2");
  UniqueFd r(p[0]), w(p[1]);
  if (pipeSize > 0) ::fcntl(w.get(), F_SETPIPE_SZ, pipeSize);
  std::string out;
  ssize_t n = ::tee(src.get(), w.get(), INT32_MAX, SPLICE_F_NONBLOCK);
  if (n < 0 && errno != EAGAIN)
    failErrno("pid {}: cannot copy the bytes buffered in fd {}", ctx.pid(), fd);
  char buf[65536];
  for (;;) {
    ssize_t k = ::read(r.get(), buf, sizeof buf);
    if (k <= 0) break;
    out.append(buf, static_cast<size_t>(k));
  }
  return out;
}

std::string fileContents(DumpContext& ctx, const FdInfo& f) {
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

void FilesCollector::collect(DumpContext& ctx, img::Process& out) {
  pid_t pid = ctx.pid();
  std::vector<FdInfo> fds;
  for (int fd : ProcFs::fds(pid)) {
    FdInfo f{};
    f.fd = fd;
    std::string p = ProcFs::path(pid, "fd/" + std::to_string(fd));
    try {
      f.link = ProcFs::readLink(p);
    } catch (const Error&) {
      continue;  // closed meanwhile (cannot happen while frozen, but be tolerant)
    }
    if (::stat(p.c_str(), &f.st) != 0) std::memset(&f.st, 0, sizeof f.st);
    auto info = ProcFs::fdInfo(pid, fd);
    uint32_t flags = static_cast<uint32_t>(std::strtoul(info["flags"].c_str(), nullptr, 8));
    f.cloexec = flags & O_CLOEXEC;
    f.flags = flags & ~static_cast<uint32_t>(O_CLOEXEC);
    f.pos = std::strtoull(info["pos"].c_str(), nullptr, 10);
    fds.push_back(f);
  }

  // Group fds that share an open file description (dup'ed fds share offset and flags).
  uint32_t nextId = 1;
  for (size_t i = 0; i < fds.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (fds[j].st.st_dev != fds[i].st.st_dev || fds[j].st.st_ino != fds[i].st.st_ino) continue;
      if (::syscall(SYS_kcmp, pid, pid, KCMP_FILE, fds[j].fd, fds[i].fd) == 0) {
        fds[i].description = fds[j].description;
        break;
      }
    }
    if (!fds[i].description) fds[i].description = nextId++;
  }

  // Which pipe inodes the task holds a read end / a write end of.
  std::map<uint64_t, int> readers, writers;
  for (const auto& f : fds) {
    if (!S_ISFIFO(f.st.st_mode)) continue;
    uint32_t acc = f.flags & O_ACCMODE;
    if (acc == O_RDONLY || acc == O_RDWR) readers.emplace(f.st.st_ino, f.fd);
    if (acc == O_WRONLY || acc == O_RDWR) writers.emplace(f.st.st_ino, f.fd);
  }

  std::map<uint32_t, bool> described;
  std::set<uint64_t> pipeDataTaken;
  for (const auto& f : fds) {
    img::Fd* ofd = out.add_fds();
    ofd->set_fd(f.fd);
    ofd->set_description(f.description);
    ofd->set_cloexec(f.cloexec);
    if (described[f.description]) continue;
    described[f.description] = true;

    img::FileDescription d;
    d.set_id(f.description);
    d.set_flags(f.flags);
    d.set_pos(f.pos);
    d.set_description(f.link);
    *d.mutable_file() = FileIdentity::of(f.st);
    auto unsupported = [&](const std::string& what) {
      fail("pid {}: fd {} ({}): {} not supported yet", pid, f.fd, f.link, what);
    };
    bool stdio = f.fd <= 2;
    const std::string& l = f.link;
    if (l.rfind("pipe:[", 0) == 0) {
      bool both = readers.count(f.st.st_ino) && writers.count(f.st.st_ino);
      if (!both) {
        if (!stdio) unsupported("pipes whose other end is outside the task are");
        d.set_kind(img::FileDescription::INHERITED);
        d.set_inherited_fd(f.fd);
      } else {
        d.set_kind(img::FileDescription::PIPE);
        d.set_pipe_ino(f.st.st_ino);
        UniqueFd copy = ctx.takeFd(f.fd);
        int size = ::fcntl(copy.get(), F_GETPIPE_SZ);
        d.set_pipe_size(size > 0 ? static_cast<uint32_t>(size) : 0);
        uint32_t acc = f.flags & O_ACCMODE;
        if ((acc == O_RDONLY || acc == O_RDWR) && pipeDataTaken.insert(f.st.st_ino).second)
          d.set_pipe_data(pipeContents(ctx, f.fd, size));
      }
    } else if (l.rfind("socket:[", 0) == 0) {
      if (!stdio) unsupported("sockets are");
      d.set_kind(img::FileDescription::INHERITED);
      d.set_inherited_fd(f.fd);
    } else if (l.rfind("anon_inode:", 0) == 0) {
      unsupported(fmt::format("{} descriptors are", l.substr(11)));
    } else if (l.rfind("/memfd:", 0) == 0) {
      unsupported("memfd files are");
    } else if (l.empty() || l[0] != '/') {
      unsupported("this kind of descriptor is");
    } else if (S_ISCHR(f.st.st_mode)) {
      bool tty = l.rfind("/dev/pts/", 0) == 0 || l.rfind("/dev/tty", 0) == 0 ||
                 l == "/dev/console";
      if (tty && stdio) {
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
      if ((acc == O_RDONLY || acc == O_RDWR) && pipeDataTaken.insert(f.st.st_ino).second) {
        UniqueFd copy = ctx.takeFd(f.fd);
        d.set_pipe_data(pipeContents(ctx, f.fd, ::fcntl(copy.get(), F_GETPIPE_SZ)));
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
    *out.add_files() = std::move(d);
  }
}

}  // namespace cryo
