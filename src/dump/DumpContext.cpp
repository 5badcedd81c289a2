// DumpContext: what collectors share while one process is frozen: the process's threads,
// its memory, injected syscalls per thread, a scratch area, the page store, fds via pidfd.
#include "dump/DumpContext.h"

#include <algorithm>
#include <exception>
#include <utility>

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

TreeFdIndex& DumpContext::fdIndex() {
  if (!fdIndex_) {
    ownIndex_ = std::make_unique<TreeFdIndex>(std::vector<pid_t>{pid()});
    fdIndex_ = ownIndex_.get();
  }
  return *fdIndex_;
}

const std::map<std::string, std::string>& DumpContext::status() {
  if (!status_) status_ = ProcFs::status(ProcFs::path(pid(), "status"));
  return *status_;
}

const ProcStat& DumpContext::stat() {
  if (!stat_) stat_ = ProcFs::stat(pid());
  return *stat_;
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
  if (opts.keptArea && opts.keptArea->addr) {
    // The kept area is cryo's, not the task's: left out of everything the dump sees. It is
    // reused only if it is still there as cryo left it (an exec replaces the address space).
    const InjectionArea& a = *opts.keptArea;
    size_t found = 0;
    bool intact = true;
    auto inside = [&](const MapsEntry& m) { return m.start >= a.addr && m.end <= a.addr + a.size; };
    for (const MapsEntry& m : maps_) {
      if (!inside(m)) continue;
      ++found;
      bool code = m.start == a.addr;
      if (!m.shared || m.exec != code || m.write == code) intact = false;
    }
    intact = intact && found == 2;
    if (intact)
      maps_.erase(std::remove_if(maps_.begin(), maps_.end(), inside), maps_.end());
    if (intact && a.slots >= freezer_.threads().size()) {
      reuse_ = a;
    } else {
      spdlog::debug("pid {}: the kept injection area at {:#x} is gone or too small: new one",
                    pid(), a.addr);
      if (intact) staleArea_ = a;  // too small for the threads: removed once a new one exists
      opts_.keptArea->addr = 0;
    }
  }
  site_ = RemoteSyscalls::findSyscallSiteInVdso(mem_, maps_);
  if (site_ == 0)
    fail("pid {} has no [vdso] with a syscall instruction; cannot inject syscalls", pid());
}

const std::optional<PageRanges>& DumpContext::changedRanges() {
  if (changedSource_) {
    auto source = std::exchange(changedSource_, nullptr);
    try {
      changed_ = source();
    } catch (...) {
      changedError_ = std::current_exception();  // never taken for "capture everything"
    }
  }
  if (changedError_) std::rethrow_exception(changedError_);
  return changed_;
}

bool DumpContext::settleDeliveredSignal() const {
  for (const auto& [tid, rs] : syscalls_)
    if (rs->settleDeliveredSignal()) return true;
  return false;
}

cpu_set_t DumpContext::threadCpus(pid_t tid) const {
  if (cpuHold_)
    if (auto own = cpuHold_->original(tid)) return *own;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(tid, sizeof set, &set) != 0)
    failErrno("tid {}: sched_getaffinity failed", tid);
  return set;
}

cryo_sched_attr DumpContext::threadSched(pid_t tid) const {
  if (priorityHold_)
    if (auto own = priorityHold_->original(tid)) return *own;
  cryo_sched_attr attr{};
  if (::syscall(SYS_sched_getattr, tid, &attr, sizeof attr, 0) != 0)
    failErrno("tid {}: sched_getattr failed", tid);
  return attr;
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
  const uint64_t page = 4096;
  Tracee& leader = freezer_.leader();
  std::unique_ptr<RemoteSyscalls> rs;
  if (reuse_.addr) {
    // Crash-safe from the first call: the guard code is already in the task.
    area_ = reuse_.addr;
    areaSize_ = reuse_.size;
    slots_ = area_ + page;
  } else {
    // Plain injection through the vdso just long enough to map the area; from then on every
    // injected call is crash-safe (GuardCode.S): if cryo dies, each thread puts itself back.
    rs = std::make_unique<RemoteSyscalls>(leader, site_);
    size_t slots = freezer_.threads().size();
    if (opts_.keptArea) slots = std::max<size_t>(2 * slots, 64);  // room for new threads
    uint64_t slotBytes = (slots * Registers::kGuardSlotSize + page - 1) & ~(page - 1);
    areaSize_ = page + slotBytes + kScratchBytes;
    // A kept area is shared memory: it never merges with a mapping of the task's.
    uint64_t flags = (opts_.keptArea ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
    area_ = rs->check("mmap of the injection area", SYS_mmap, 0, areaSize_, PROT_READ | PROT_WRITE,
                      flags, static_cast<uint64_t>(-1), 0);
    std::vector<uint8_t> code = Registers::guardCode();
    mem_.write(area_, code.data(), code.size());
    rs->check("mprotect of the guard code", SYS_mprotect, area_, page, PROT_READ | PROT_EXEC);
    slots_ = area_ + page;
    if (opts_.keptArea) *opts_.keptArea = InjectionArea{area_, areaSize_, slots};
  }
  size_t i = 0;
  for (auto& t : freezer_.threads()) slotOf_[t->tid()] = slots_ + (i++) * Registers::kGuardSlotSize;
  if (rs)
    rs->enableGuard(InjectionGuard{area_, slotOf_[pid()], &mem_});
  else
    rs = std::make_unique<RemoteSyscalls>(leader, InjectionGuard{area_, slotOf_[pid()], &mem_});
  scratch_ = std::make_unique<RemoteScratch>(mem_, area_ + areaSize_ - kScratchBytes, kScratchBytes);
  syscalls_.emplace(pid(), std::move(rs));
  if (opts_.keptArea && !reuse_.addr) {
    // Children the task forks do not inherit it.
    long r = syscalls_.at(pid())->call(SYS_madvise, area_, areaSize_, MADV_DONTFORK);
    if (r < 0) spdlog::debug("pid {}: madvise(MADV_DONTFORK) of the injection area: {}", pid(), strerror(-r));
  }
  if (staleArea_.addr) {
    long r = syscalls_.at(pid())->call(SYS_munmap, staleArea_.addr, staleArea_.size);
    if (r < 0) spdlog::warn("pid {}: could not remove the old injection area: {}", pid(), strerror(-r));
    staleArea_ = InjectionArea{};
  }
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
  if (opts_.keptArea) {
    // The area stays for the next checkpoint: every thread gets its registers and mask back.
    syscalls_.clear();
    area_ = 0;
    return;
  }
  // Other threads first (registers and masks put back), then the leader removes the area
  // through the vdso and is put back too.
  auto it = syscalls_.find(pid());
  if (it == syscalls_.end()) {
    // Making the area failed half-way (the task died meanwhile): nothing runs guarded.
    syscalls_.clear();
    spdlog::debug("pid {}: the injection area at {:#x} was never in use", pid(), area_);
    area_ = 0;
    return;
  }
  auto leader = std::move(it->second);
  syscalls_.clear();
  leader->disableGuard(site_);
  long r = leader->call(SYS_munmap, area_, areaSize_);
  if (r < 0) spdlog::error("pid {}: could not remove the injection area: {}", pid(), strerror(-r));
  area_ = 0;
  leader.reset();
}

}  // namespace cryo
