// FdInstaller: what fd restorers share while the files of one process are rebuilt: injected
// calls in the leader that name the description in errors, moving a new fd above the restored
// numbers, status flags, offsets, refilling data, and installing a description at its numbers.
#include "restore/fds/FdInstaller.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/Error.h"
#include "restore/RestoreContext.h"

namespace cryo {

namespace {

// Status flags that F_SETFL can change.
constexpr uint32_t kSettable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

}  // namespace

FdInstaller::FdInstaller(RestoreContext& ctx, const img::Process& in)
    : ctx_(ctx), rs_(ctx.leaderSyscalls()), in_(in) {}

std::string FdInstaller::who(const img::FileDescription& d) const {
  int fd = firstFd(d);
  if (fd < 0) return fmt::format("pid {}: {}", ctx_.pid(), d.description());
  return fmt::format("pid {}: fd {} ({})", ctx_.pid(), fd, d.description());
}

long FdInstaller::sys(const std::string& what, long nr, uint64_t a, uint64_t b, uint64_t c,
                      uint64_t d) {
  return static_cast<long>(rs_.check(what, nr, a, b, c, d));
}

int FdInstaller::high(int fd) {
  if (fd >= ctx_.highFd()) return fd;
  int h = static_cast<int>(sys("fcntl(F_DUPFD_CLOEXEC)", SYS_fcntl, static_cast<uint64_t>(fd),
                               F_DUPFD_CLOEXEC, static_cast<uint64_t>(ctx_.highFd())));
  sys("close", SYS_close, static_cast<uint64_t>(fd));
  return h;
}

void FdInstaller::setFlags(int fd, const img::FileDescription& d) {
  sys(who(d) + ": fcntl(F_SETFL)", SYS_fcntl, static_cast<uint64_t>(fd), F_SETFL,
      d.flags() & kSettable);
}

void FdInstaller::seek(int fd, const img::FileDescription& d) {
  long r = rs_.call(SYS_lseek, static_cast<uint64_t>(fd), d.pos(), SEEK_SET);
  if (r < 0 && r != -ESPIPE)
    throw SysError(fmt::format("{}: cannot seek to {}", who(d), d.pos()), static_cast<int>(-r));
}

void FdInstaller::fill(int fd, const std::string& data, const img::FileDescription& d) {
  if (data.empty()) return;
  UniqueFd copy = ctx_.takeFd(fd);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(copy.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failErrno("cannot refill {}", who(d));
    done += static_cast<size_t>(n);
  }
}

void FdInstaller::install(int temp, const img::FileDescription& d) {
  for (const auto& f : in_.fds()) {
    if (f.description() != d.id()) continue;
    sys(fmt::format("{}: dup3 to fd {}", who(d), f.fd()), SYS_dup3, static_cast<uint64_t>(temp),
        static_cast<uint64_t>(f.fd()), f.cloexec() ? O_CLOEXEC : 0);
  }
}

int FdInstaller::firstFd(const img::FileDescription& d) const {
  for (const auto& f : in_.fds())
    if (f.description() == d.id()) return f.fd();
  return -1;
}

}  // namespace cryo
