// FrozenTarget: a TrackTarget over a task held by a ProcessFreezer, for callers that have no
// dump in progress. Injection and the scratch area are set up on first use and put back (the
// thread's registers, the area unmapped) when the object goes away, before the task is thawed.
#include "track/FrozenTarget.h"

#include <spdlog/spdlog.h>

#include "common/Error.h"

namespace cryo {

namespace {
constexpr uint64_t kScratchSize = 64 * 1024;
}

FrozenTarget::FrozenTarget(ProcessFreezer& freezer)
    : freezer_(freezer), maps_(ProcFs::maps(freezer.pid(), true)), memory_(freezer.pid()) {}

FrozenTarget::~FrozenTarget() {
  try {
    scratch_.reset();
    syscalls_.reset();
  } catch (const std::exception& e) {
    spdlog::warn("pid {}: {}", pid(), e.what());
  }
}

RemoteSyscalls& FrozenTarget::syscalls() {
  if (!syscalls_) {
    uint64_t site = RemoteSyscalls::findSyscallSiteInVdso(pid());
    if (site == 0)
      fail("pid {} has no [vdso] with a syscall instruction; cannot inject syscalls", pid());
    syscalls_ = std::make_unique<RemoteSyscalls>(freezer_.leader(), site);
  }
  return *syscalls_;
}

RemoteScratch& FrozenTarget::scratch() {
  if (!scratch_) scratch_ = std::make_unique<RemoteScratch>(syscalls(), memory_, kScratchSize);
  scratch_->reset();
  return *scratch_;
}

}  // namespace cryo
