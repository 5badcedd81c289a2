// DumpContext: what collectors share while one process is frozen: the process's threads,
// its memory, injected syscalls per thread, a scratch area, the page store, fds via pidfd.
#include "dump/DumpContext.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "common/Error.h"
#include "common/KernelCompat.h"

#include <sys/mman.h>
#include <cstring>

#include <spdlog/spdlog.h>

namespace cryo {

DumpContext::DumpContext(ProcessFreezer& freezer, PageWriter& pages, BufferPool& buffers,
                         const DumpOptions& opts)
    : DumpContext(freezer, opts) {
  pages_ = &pages;
  buffers_ = &buffers;
}

PageWriter& DumpContext::pages() {
  if (!pages_) fail("pid {}: this injection context stores no pages", pid());
  return *pages_;
}

BufferPool& DumpContext::copyBuffers() {
  if (!buffers_) fail("pid {}: this injection context has no copy buffers", pid());
  return *buffers_;
}

DumpContext::DumpContext(ProcessFreezer& freezer, const DumpOptions& opts)
    : freezer_(freezer), opts_(opts), mem_(freezer.pid()) {
  maps_ = opts.mapsHint.empty() ? ProcFs::maps(pid(), true)
                                : ProcFs::mapsWithFlagsFrom(pid(), opts.mapsHint);
  site_ = RemoteSyscalls::findSyscallSiteInVdso(pid(), maps_);
  if (site_ == 0)
    fail("pid {} has no [vdso] with a syscall instruction; cannot inject syscalls", pid());
}

DumpContext::~DumpContext() {
  try {
    finish();
  } catch (const std::exception& e) {
    // The task may have died mid-dump; there is nothing left to put back.
    spdlog::warn("pid {}: {}", pid(), e.what());
  }
}

void DumpContext::createArea() {
  // Plain injection through the vdso just long enough to map the area; from then on every
  // injected call is crash-safe (GuardCode.S): if cryo dies, each thread puts itself back.
  Tracee& leader = freezer_.leader();
  auto rs = std::make_unique<RemoteSyscalls>(leader, site_);
  const uint64_t page = 4096;
  uint64_t slotBytes = (freezer_.threads().size() * Registers::kGuardSlotSize + page - 1) & ~(page - 1);
  areaSize_ = page + slotBytes + 64 * 1024;
  area_ = rs->check("mmap of the injection area", SYS_mmap, 0, areaSize_, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0);
  std::vector<uint8_t> code = Registers::guardCode();
  mem_.write(area_, code.data(), code.size());
  rs->check("mprotect of the guard code", SYS_mprotect, area_, page, PROT_READ | PROT_EXEC);
  slots_ = area_ + page;
  size_t i = 0;
  for (auto& t : freezer_.threads()) slotOf_[t->tid()] = slots_ + (i++) * Registers::kGuardSlotSize;
  rs->enableGuard(InjectionGuard{area_, slotOf_[pid()], &mem_});
  scratch_ = std::make_unique<RemoteScratch>(mem_, slots_ + slotBytes, 64 * 1024);
  syscalls_.emplace(pid(), std::move(rs));
}

RemoteSyscalls& DumpContext::syscalls(pid_t tid) {
  if (!area_) createArea();
  auto it = syscalls_.find(tid);
  if (it != syscalls_.end()) return *it->second;
  for (auto& t : freezer_.threads()) {
    if (t->tid() != tid) continue;
    auto rs = std::make_unique<RemoteSyscalls>(*t, InjectionGuard{area_, slotOf_.at(tid), &mem_});
    return *syscalls_.emplace(tid, std::move(rs)).first->second;
  }
  fail("pid {}: no frozen thread {}", pid(), tid);
}

RemoteScratch& DumpContext::scratch() {
  if (!area_) createArea();
  scratch_->reset();
  return *scratch_;
}

UniqueFd DumpContext::takeFd(int fd) {
  if (!pidfd_) pidfd_ = std::make_unique<PidFd>(pid());
  return pidfd_->take(fd);
}

void DumpContext::finish() {
  scratch_.reset();
  if (!area_) return;
  // Other threads first (registers and masks put back), then the leader removes the area
  // through the vdso and is put back too.
  auto leader = std::move(syscalls_.at(pid()));
  syscalls_.clear();
  leader->disableGuard(site_);
  long r = leader->call(SYS_munmap, area_, areaSize_);
  if (r < 0) spdlog::error("pid {}: could not remove the injection area: {}", pid(), strerror(-r));
  area_ = 0;
  leader.reset();
}

}  // namespace cryo
