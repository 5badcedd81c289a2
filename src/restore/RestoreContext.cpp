// RestoreContext: what restorers share while one process is being rebuilt: its threads
// (held under ptrace), injected syscalls per thread, its memory, a scratch area, the image.
#include "restore/RestoreContext.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/Error.h"
#include "common/KernelCompat.h"

namespace cryo {

RestoreContext::RestoreContext(const ImageChain& chain, const img::Process& proc,
                               const RestoreOptions& opts)
    : chain_(chain), proc_(proc), opts_(opts) {}

RestoreContext::~RestoreContext() {
  if (scratch_) scratch_->keep();  // the process is killed or already cleaned up
  forgetSyscalls();
}

void RestoreContext::adoptLeader(std::unique_ptr<Tracee> leader) {
  mem_ = std::make_unique<RemoteMemory>(leader->tid());
  threads_.insert(threads_.begin(), std::move(leader));
}

void RestoreContext::addThread(std::unique_ptr<Tracee> t) { threads_.push_back(std::move(t)); }

Tracee& RestoreContext::thread(pid_t tid) {
  for (auto& t : threads_)
    if (t->tid() == tid) return *t;
  fail("restore of pid {}: no thread {}", pid(), tid);
}

void RestoreContext::setSyscallSite(uint64_t site) {
  site_ = site;
  for (auto& [tid, rs] : syscalls_) rs->setSite(site);
}

RemoteSyscalls& RestoreContext::syscalls(pid_t tid) {
  auto it = syscalls_.find(tid);
  if (it != syscalls_.end()) return *it->second;
  auto rs = std::make_unique<RemoteSyscalls>(thread(tid), site_);
  rs->release();  // restore sets the final thread state itself
  if (scratch_) rs->setStack(scratch_->end() - 64);
  return *syscalls_.emplace(tid, std::move(rs)).first->second;
}

RemoteScratch& RestoreContext::scratch() {
  if (!scratch_) fail("restore of pid {}: no scratch area yet", pid());
  scratch_->reset();
  return *scratch_;
}

int RestoreContext::openInProcess(const std::string& path, int flags, int mode) {
  RemoteSyscalls& rs = leaderSyscalls();
  RemoteScratch& s = scratch();
  uint64_t p = s.putString(path);
  long fd = rs.call(SYS_openat, static_cast<uint64_t>(AT_FDCWD), p,
                    static_cast<uint64_t>(flags | O_CLOEXEC), static_cast<uint64_t>(mode));
  if (fd < 0)
    throw SysError(fmt::format("restore of pid {}: cannot open {}", pid(), path),
                   static_cast<int>(-fd));
  return moveHigh(static_cast<int>(fd));
}

int RestoreContext::moveHigh(int fd) {
  if (fd >= highFd_) return fd;
  RemoteSyscalls& rs = leaderSyscalls();
  long high = rs.call(SYS_fcntl, static_cast<uint64_t>(fd), F_DUPFD_CLOEXEC,
                      static_cast<uint64_t>(highFd_));
  rs.call(SYS_close, static_cast<uint64_t>(fd));
  if (high < 0)
    throw SysError(fmt::format("restore of pid {}: cannot move fd {} above {}", pid(), fd,
                               highFd_),
                   static_cast<int>(-high));
  return static_cast<int>(high);
}

void RestoreContext::closeInProcess(int fd) {
  leaderSyscalls().check(fmt::format("close of temporary fd {}", fd), SYS_close,
                         static_cast<uint64_t>(fd));
}

UniqueFd RestoreContext::takeFd(int fd) {
  if (!pidfd_) pidfd_ = std::make_unique<PidFd>(pid());
  return pidfd_->take(fd);
}

int RestoreContext::receiveFd(int cryoFd, const std::string& what) {
  RemoteSyscalls& rs = leaderSyscalls();
  if (cryoPidfd_ < 0) {
    long p = rs.call(__NR_pidfd_open, static_cast<uint64_t>(::getpid()), 0);
    if (p < 0)
      throw SysError(fmt::format("restore of pid {}: cannot open a pidfd of cryo to receive {}",
                                 pid(), what),
                     static_cast<int>(-p));
    cryoPidfd_ = moveHigh(static_cast<int>(p));
  }
  long fd = rs.call(__NR_pidfd_getfd, static_cast<uint64_t>(cryoPidfd_),
                    static_cast<uint64_t>(cryoFd), 0);
  if (fd < 0)
    throw SysError(fmt::format("restore of pid {}: cannot receive {} (pidfd_getfd)", pid(), what),
                   static_cast<int>(-fd));
  return moveHigh(static_cast<int>(fd));
}

int RestoreContext::createSharedMemfd(uint64_t ino, const std::string& name, uint64_t size) {
  RemoteSyscalls& rs = leaderSyscalls();
  std::string what = fmt::format("restore of pid {}: shared memory object {} ({})", pid(), ino,
                                 name);
  long fd = rs.call(__NR_memfd_create, scratch().putString(name),
                    MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw SysError(what + ": memfd_create", static_cast<int>(-fd));
  int high = moveHigh(static_cast<int>(fd));
  rs.check(what + ": ftruncate", SYS_ftruncate, static_cast<uint64_t>(high), size);
  tree_->put(TreeFiles::sharedMemory(ino), takeFd(high));
  return high;
}

void RestoreContext::closeCryoPidfd() {
  if (cryoPidfd_ < 0) return;
  closeInProcess(cryoPidfd_);
  cryoPidfd_ = -1;
}

void RestoreContext::forgetSyscalls() { syscalls_.clear(); }

}  // namespace cryo
