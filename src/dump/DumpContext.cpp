// DumpContext: what collectors share while one process is frozen: the process's threads,
// its memory, injected syscalls per thread, a scratch area, the page store, fds via pidfd.
#include "dump/DumpContext.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "common/Error.h"
#include "common/KernelCompat.h"

namespace cryo {

DumpContext::DumpContext(ProcessFreezer& freezer, PageWriter& pages, BufferPool& buffers,
                         const DumpOptions& opts)
    : freezer_(freezer), pages_(pages), buffers_(buffers), opts_(opts), mem_(freezer.pid()) {
  maps_ = ProcFs::maps(pid(), true);
  site_ = RemoteSyscalls::findSyscallSiteInVdso(pid());
  if (site_ == 0)
    fail("pid {} has no [vdso] with a syscall instruction; cannot inject syscalls", pid());
}

DumpContext::~DumpContext() { finish(); }

RemoteSyscalls& DumpContext::syscalls(pid_t tid) {
  auto it = syscalls_.find(tid);
  if (it != syscalls_.end()) return *it->second;
  for (auto& t : freezer_.threads()) {
    if (t->tid() != tid) continue;
    auto rs = std::make_unique<RemoteSyscalls>(*t, site_);
    return *syscalls_.emplace(tid, std::move(rs)).first->second;
  }
  fail("pid {}: no frozen thread {}", pid(), tid);
}

RemoteScratch& DumpContext::scratch() {
  if (!scratch_) scratch_ = std::make_unique<RemoteScratch>(leaderSyscalls(), mem_, 64 * 1024);
  scratch_->reset();
  return *scratch_;
}

UniqueFd DumpContext::takeFd(int fd) {
  if (!pidfd_) {
    pidfd_.reset(static_cast<int>(::syscall(__NR_pidfd_open, pid(), 0)));
    if (!pidfd_) failErrno("pid {}: pidfd_open failed", pid());
  }
  UniqueFd out(static_cast<int>(::syscall(__NR_pidfd_getfd, pidfd_.get(), fd, 0)));
  if (!out) failErrno("pid {}: cannot take a copy of fd {} (pidfd_getfd)", pid(), fd);
  return out;
}

void DumpContext::finish() {
  scratch_.reset();   // unmapped through the leader's injected syscalls
  syscalls_.clear();  // registers and masks put back
}

}  // namespace cryo
