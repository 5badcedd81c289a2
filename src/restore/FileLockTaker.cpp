// FileLockTaker: takes again, in a process being restored, the file locks its descriptions
// held: POSIX record locks by the process itself, OFD and flock locks once per description.
#include "restore/FileLockTaker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/KernelCompat.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

namespace {

std::string describe(const img::FileLock& l) {
  if (l.kind() == img::FileLock::FLOCK)
    return fmt::format("its flock {} lock", l.write() ? "LOCK_EX" : "LOCK_SH");
  std::string range = l.to_eof() ? fmt::format("bytes {} to the end of the file", l.start())
                                 : fmt::format("bytes {}-{}", l.start(), l.end());
  return fmt::format("its {} {} lock on {}", l.kind() == img::FileLock::OFD ? "OFD" : "POSIX",
                     l.write() ? "WRITE" : "READ", range);
}

struct flock recordLock(const img::FileLock& l) {
  struct flock fl {};
  fl.l_type = l.write() ? F_WRLCK : F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(l.start());
  fl.l_len = l.to_eof() ? 0 : static_cast<off_t>(l.end() - l.start() + 1);
  return fl;
}

int flockOp(const img::FileLock& l) { return (l.write() ? LOCK_EX : LOCK_SH) | LOCK_NB; }

// "pid N (comm)", or "pid N" when /proc no longer shows it.
std::string named(pid_t pid) {
  try {
    return fmt::format("pid {} ({})", pid, ProcFs::stat(pid).comm);
  } catch (const Error&) {
    return fmt::format("pid {}", pid);
  }
}

bool isConflict(int err) { return err == EAGAIN || err == EACCES || err == EWOULDBLOCK; }

// The processes of the tree that have description `d` of `in` (in image order).
std::vector<pid_t> holdersOf(const img::Tree& tree, const img::Process& in,
                             const img::FileDescription& d) {
  if (!d.tree_id()) return {in.pid()};
  std::vector<pid_t> out;
  for (const auto& p : tree.processes())
    for (const auto& f : p.files())
      if (f.tree_id() == d.tree_id()) {
        out.push_back(p.pid());
        break;
      }
  return out;
}

// The processes of the tree that share `in`'s fd table (files_shared_with chains), `in` too;
// the first is the one that restored the table.
std::vector<pid_t> tableSharers(const img::Tree& tree, const img::Process& in) {
  std::map<pid_t, pid_t> top;
  for (const auto& p : tree.processes())
    top[p.pid()] = p.files_shared_with() ? top[p.files_shared_with()] : p.pid();
  std::vector<pid_t> out;
  for (const auto& p : tree.processes())
    if (top[p.pid()] == top[in.pid()]) out.push_back(p.pid());
  return out;
}

// Who takes POSIX lock `l` of `in`'s table: the process of the table that the lock shows
// (every process of a shared table shows the table's locks), or, for a lock that shows no
// such process (an image of an older cryo), the process that restored the table; 0: another.
pid_t posixTaker(const img::Tree& tree, const img::Process& in, const img::FileLock& l) {
  std::vector<pid_t> sharers = tableSharers(tree, in);
  if (l.pid() == in.pid()) return in.pid();
  if (std::find(sharers.begin(), sharers.end(), l.pid()) != sharers.end()) return 0;
  return sharers.front() == in.pid() ? in.pid() : 0;
}

}  // namespace

void FileLockTaker::takeAll(FdInstaller& inst, const img::Process& in) {
  if (FaultPoint::skips("restore-file-locks")) return;  // (to prove restore --verify sees it)
  const img::Tree& tree = inst.context().image().tree();
  for (const auto& d : in.files()) {
    if (d.locks().empty()) continue;
    int fd = inst.firstFd(d);
    if (fd < 0) fail("{}: holds file locks but no fd of the image refers to it", inst.who(d));
    for (const auto& l : d.locks()) {
      pid_t taker = l.kind() == img::FileLock::POSIX ? posixTaker(tree, in, l)
                                                     : takerOf(tree, in, d, l);
      if (taker == 0) continue;
      if (taker < 0 && takeByHelper(inst, d, fd, l)) continue;
      if (l.kind() == img::FileLock::FLOCK && l.pid() != in.pid())
        spdlog::warn("{}: {} showed pid {}, which cannot take it here (it is not a process of "
                     "the tree that has the description, and the pid is in use): taken by pid "
                     "{}, which /proc/locks and fdinfo show instead",
                     inst.who(d), describe(l), l.pid(), in.pid());
      takeHere(inst, d, fd, l);
    }
  }
}

pid_t FileLockTaker::takerOf(const img::Tree& tree, const img::Process& in,
                             const img::FileDescription& d, const img::FileLock& l) {
  std::vector<pid_t> holders = holdersOf(tree, in, d);
  if (holders.empty()) return 0;
  if (l.kind() == img::FileLock::FLOCK) {
    // A flock lock shows the pid of the process that took it: taken by that process if it
    // has the description, else (it has exited) by a helper given its pid.
    if (std::find(holders.begin(), holders.end(), l.pid()) != holders.end())
      return l.pid() == in.pid() ? in.pid() : 0;
    bool inTree = std::any_of(tree.processes().begin(), tree.processes().end(),
                              [&](const img::Process& p) { return p.pid() == l.pid(); });
    if (!inTree && l.pid() > 0) return holders.front() == in.pid() ? -1 : 0;
  }
  return holders.front() == in.pid() ? in.pid() : 0;
}

void FileLockTaker::takeHere(FdInstaller& inst, const img::FileDescription& d, int fd,
                             const img::FileLock& l) {
  RemoteSyscalls& rs = inst.syscalls();
  long r;
  if (l.kind() == img::FileLock::FLOCK) {
    r = rs.call(SYS_flock, static_cast<uint64_t>(fd), static_cast<uint64_t>(flockOp(l)));
  } else {
    RemoteScratch& s = inst.context().scratch();
    s.reset();
    int cmd = l.kind() == img::FileLock::OFD ? F_OFD_SETLK : F_SETLK;
    r = rs.call(SYS_fcntl, static_cast<uint64_t>(fd), static_cast<uint64_t>(cmd),
                s.putValue(recordLock(l)));
  }
  if (r < 0 && isConflict(static_cast<int>(-r))) conflict(inst, d, fd, l, static_cast<int>(-r));
  if (r < 0)
    throw SysError(fmt::format("{}: cannot take back {} ({})", inst.who(d), describe(l), l.line()),
                   static_cast<int>(-r));
}

bool FileLockTaker::takeByHelper(FdInstaller& inst, const img::FileDescription& d, int fd,
                                 const img::FileLock& l) {
  UniqueFd copy = inst.context().takeFd(fd);  // the same open file description
  cryo_clone_args args{};
  pid_t want = l.pid();
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<uint64_t>(&want);
  args.set_tid_size = 1;
  long child = ::syscall(__NR_clone3, &args, sizeof args);
  if (child == 0) {
    // Raw system calls only: the helper takes the lock (the description owns it) and exits.
    long r = ::syscall(SYS_flock, copy.get(), flockOp(l));
    ::syscall(SYS_exit_group, r == 0 ? 0 : (errno & 0xff));
  }
  if (child < 0 && errno == EEXIST) return false;
  if (child < 0)
    failErrno("{}: cannot create a helper with pid {} to take back {} ({})", inst.who(d), want,
              describe(l), l.line());
  int st = 0;
  while (::waitpid(static_cast<pid_t>(child), &st, 0) < 0)
    if (errno != EINTR) failErrno("{}: cannot wait for the lock helper {}", inst.who(d), child);
  if (!WIFEXITED(st))
    fail("{}: the helper taking back {} (pid {}) did not exit normally", inst.who(d), describe(l),
         child);
  int err = WEXITSTATUS(st);
  if (err && isConflict(err)) conflict(inst, d, fd, l, err);
  if (err)
    throw SysError(fmt::format("{}: cannot take back {} ({}) as pid {}", inst.who(d),
                               describe(l), l.line(), want),
                   err);
  return true;
}

void FileLockTaker::conflict(FdInstaller& inst, const img::FileDescription& d, int fd,
                             const img::FileLock& l, int err) {
  // Who holds what stands in the way, as the kernel reports it to the lock's own owner.
  struct flock fl = recordLock(l);
  std::string holder = "another open file description of the file holds a conflicting lock";
  if (l.kind() == img::FileLock::POSIX) {
    RemoteScratch& s = inst.context().scratch();
    s.reset();
    uint64_t at = s.putValue(fl);
    if (inst.syscalls().call(SYS_fcntl, static_cast<uint64_t>(fd), F_GETLK, at) == 0)
      fl = s.get<struct flock>(at);
  } else if (l.kind() == img::FileLock::OFD) {
    UniqueFd copy = inst.context().takeFd(fd);
    if (::fcntl(copy.get(), F_OFD_GETLK, &fl) != 0) fl.l_type = F_UNLCK;
  }
  if (l.kind() != img::FileLock::FLOCK && fl.l_type != F_UNLCK)
    holder = fl.l_pid > 0 ? fmt::format("{} holds a conflicting lock from byte {} ({} bytes, 0: to the end)",
                                        named(fl.l_pid), fl.l_start, fl.l_len)
                          : "an OFD lock of another open file description conflicts";
  throw SysError(fmt::format("{}: cannot take back {} ({}): {} (is the checkpointed task, or "
                             "another, still holding it?)",
                             inst.who(d), describe(l), l.line(), holder),
                 err);
}

}  // namespace cryo
