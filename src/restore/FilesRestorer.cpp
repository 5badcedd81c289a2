// FilesRestorer: reopens every open file description of the process and installs it at the
// saved fd numbers with the saved offsets and flags; recreates pipes with their buffered bytes.
#include "restore/FilesRestorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/Error.h"
#include "restore/RestoreContext.h"

namespace cryo {

namespace {

using FD = img::FileDescription;

// Status flags that F_SETFL can change.
constexpr uint32_t kSettable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

void writeAllTo(int fd, const std::string& data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failErrno("cannot refill {}", what);
    done += static_cast<size_t>(n);
  }
}

struct Installer {
  RestoreContext& ctx;
  RemoteSyscalls& rs;
  const img::Process& in;
  std::string who(const FD& d) { return fmt::format("pid {}: {}", ctx.pid(), d.description()); }

  long sys(const std::string& what, long nr, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0,
           uint64_t d = 0) {
    return static_cast<long>(rs.check(what, nr, a, b, c, d));
  }
  // Moves a fd above every restored fd number.
  int high(int fd) {
    if (fd >= ctx.highFd()) return fd;
    int h = static_cast<int>(sys("fcntl(F_DUPFD_CLOEXEC)", SYS_fcntl, static_cast<uint64_t>(fd),
                                 F_DUPFD_CLOEXEC, static_cast<uint64_t>(ctx.highFd())));
    sys("close", SYS_close, static_cast<uint64_t>(fd));
    return h;
  }
  void setFlags(int fd, const FD& d) {
    sys(who(d) + ": fcntl(F_SETFL)", SYS_fcntl, static_cast<uint64_t>(fd), F_SETFL,
        d.flags() & kSettable);
  }
  void install(int temp, const FD& d) {
    for (const auto& f : in.fds()) {
      if (f.description() != d.id()) continue;
      sys(fmt::format("{}: dup3 to fd {}", who(d), f.fd()), SYS_dup3,
          static_cast<uint64_t>(temp), static_cast<uint64_t>(f.fd()),
          f.cloexec() ? O_CLOEXEC : 0);
    }
  }
  void seek(int fd, const FD& d) {
    long r = rs.call(SYS_lseek, static_cast<uint64_t>(fd), d.pos(), SEEK_SET);
    if (r < 0 && r != -ESPIPE)
      throw SysError(fmt::format("{}: cannot seek to {}", who(d), d.pos()), static_cast<int>(-r));
  }
  void fill(int fd, const std::string& data, const FD& d) {
    if (data.empty()) return;
    UniqueFd copy = ctx.takeFd(fd);
    writeAllTo(copy.get(), data, who(d));
  }
};

}  // namespace

void FilesRestorer::validate(RestoreContext& ctx, const img::Process& in) {
  for (const auto& d : in.files()) {
    std::string where = fmt::format("pid {}: fd of {}", ctx.pid(), d.description());
    struct stat st {};
    switch (d.kind()) {
      case FD::REGULAR:
        if (::stat(d.path().c_str(), &st) != 0)
          failErrno("{}: cannot reopen {}", where, d.path());
        if (!S_ISREG(st.st_mode)) fail("{}: {} is no longer a regular file", where, d.path());
        if (static_cast<uint64_t>(st.st_size) < d.pos() && !(d.flags() & O_APPEND))
          fail("{}: file {} is {} bytes, shorter than the saved offset {}", where, d.path(),
               st.st_size, d.pos());
        break;
      case FD::DIRECTORY:
      case FD::CHARDEV:
      case FD::FIFO:
        if (::stat(d.path().c_str(), &st) != 0)
          failErrno("{}: cannot reopen {}", where, d.path());
        if ((d.kind() == FD::DIRECTORY && !S_ISDIR(st.st_mode)) ||
            (d.kind() == FD::CHARDEV && !S_ISCHR(st.st_mode)) ||
            (d.kind() == FD::FIFO && !S_ISFIFO(st.st_mode)))
          fail("{}: {} is no longer of the same type", where, d.path());
        break;
      case FD::DELETED_FILE: {
        auto dir = std::filesystem::path(d.path()).parent_path();
        if (!std::filesystem::is_directory(dir))
          fail("{}: directory {} (where the deleted file was) does not exist", where,
               dir.string());
        break;
      }
      default:
        break;
    }
  }
}

void FilesRestorer::restore(RestoreContext& ctx, const img::Process& in) {
  Installer inst{ctx, ctx.leaderSyscalls(), in};
  RemoteSyscalls& rs = inst.rs;
  std::map<uint64_t, std::pair<int, int>> pipes;  // pipe inode -> (read end, write end)
  for (const auto& d : in.files()) {
    uint32_t acc = d.flags() & O_ACCMODE;
    int temp = -1;
    switch (d.kind()) {
      case FD::REGULAR:
      case FD::DIRECTORY:
      case FD::CHARDEV:
        temp = ctx.openInProcess(d.path(), static_cast<int>(d.flags() & ~uint32_t(O_CREAT | O_TRUNC | O_EXCL)));
        inst.seek(temp, d);
        break;
      case FD::FIFO: {
        // Hold both ends first so that the real open cannot block.
        int both = ctx.openInProcess(d.path(), O_RDWR | O_NONBLOCK);
        temp = ctx.openInProcess(d.path(), static_cast<int>(d.flags() | O_NONBLOCK));
        inst.setFlags(temp, d);
        inst.fill(both, d.pipe_data(), d);
        ctx.closeInProcess(both);
        break;
      }
      case FD::PIPE: {
        auto it = pipes.find(d.pipe_ino());
        if (it == pipes.end()) {
          RemoteScratch& s = ctx.scratch();
          uint64_t arr = s.alloc(8);
          inst.sys(inst.who(d) + ": pipe2", SYS_pipe2, arr, O_CLOEXEC);
          int r = inst.high(s.get<int>(arr)), w = inst.high(s.get<int>(arr + 4));
          uint32_t size = 0;
          for (const auto& o : in.files())
            if (o.kind() == FD::PIPE && o.pipe_ino() == d.pipe_ino())
              size = std::max(size, o.pipe_size());
          if (size) rs.call(SYS_fcntl, static_cast<uint64_t>(w), F_SETPIPE_SZ, size);
          it = pipes.emplace(d.pipe_ino(), std::make_pair(r, w)).first;
        }
        // Buffered bytes are stored with the read end.
        if (!d.pipe_data().empty()) inst.fill(it->second.second, d.pipe_data(), d);
        temp = (acc == O_WRONLY) ? it->second.second : it->second.first;
        inst.setFlags(temp, d);
        inst.install(temp, d);
        continue;  // pipe ends are closed after all descriptions are installed
      }
      case FD::DELETED_FILE: {
        std::string dir = std::filesystem::path(d.path()).parent_path().string();
        int tmp = ctx.openInProcess(dir, O_TMPFILE | O_RDWR, static_cast<int>(d.file().mode() & 07777));
        inst.fill(tmp, d.contents(), d);
        temp = ctx.openInProcess(fmt::format("/proc/self/fd/{}", tmp),
                                 static_cast<int>(d.flags() & ~uint32_t(O_CREAT | O_TRUNC | O_EXCL)));
        ctx.closeInProcess(tmp);
        inst.seek(temp, d);
        break;
      }
      case FD::INHERITED: {
        int src = ctx.inheritedStdio(d.inherited_fd());
        if (src < 0)
          fail("pid {}: fd {} was connected outside the task ({}); it is given cryo's own "
               "standard stream {}, but cryo has none open",
               ctx.pid(), d.inherited_fd(), d.description(), d.inherited_fd());
        inst.install(src, d);
        continue;
      }
      default:
        fail("pid {}: unknown kind of file {} in the image", ctx.pid(), static_cast<int>(d.kind()));
    }
    inst.install(temp, d);
    ctx.closeInProcess(temp);
  }
  for (auto& [ino, ends] : pipes) {
    ctx.closeInProcess(ends.first);
    ctx.closeInProcess(ends.second);
  }
  for (int n = 0; n < 3; ++n)
    if (ctx.inheritedStdio(n) >= 0) ctx.closeInProcess(ctx.inheritedStdio(n));
}

}  // namespace cryo
