// SoftDirtyTracker: dirty-page tracking with the kernel's soft-dirty bits (clear_refs "4",
// bit 55 of /proc/PID/pagemap), where the kernel has them (CONFIG_MEM_SOFT_DIRTY: x86_64,
// powerpc64, s390, riscv; never arm64).
//
// clear_refs clears the bit of every page and of every mapping; a write sets the page's bit,
// a mapping created later carries the bit on all its pages (holes included). A page dropped
// since (MADV_DONTNEED) has no entry left to carry the bit: it is found by comparing what holds
// data now with the previous sweep.
#include "track/SoftDirtyTracker.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "dump/PageReader.h"
#include "track/KernelFeatures.h"
#include "track/MappingPolicy.h"
#include "track/Pagemap.h"
#include "track/TrackTarget.h"

namespace cryo {

namespace {

void clearSoftDirty(pid_t pid) {
  std::string p = ProcFs::path(pid, "clear_refs");
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), "4", 1) != 1) failErrno("pid {}: cannot clear soft-dirty bits ({})", pid, p);
}

}  // namespace

bool SoftDirtyTracker::available(std::string& why) {
  const KernelFeatures& k = KernelFeatures::get();
  why = k.softDirtyDetail();
  return k.softDirty();
}

DirtySet SoftDirtyTracker::sweep(TrackTarget& target, bool report) {
  const uint64_t page = pageSize();
  if (pid_ != target.pid()) {
    pid_ = target.pid();
    tracked_.clear();
    populated_.clear();
  }
  const uint64_t zeroPfn = PageReader::zeroPfn();
  Pagemap pm(pid_);
  DirtySet dirty, scope, tracked, populated;
  for (const MapsEntry& m : target.maps()) {
    MappingKind kind = MappingPolicy::classify(m);
    if (kind == MappingKind::kUntracked) continue;
    scope.add(m.start, m.end);
    if (kind == MappingKind::kSharedAnon) {
      if (report) dirty.add(m.start, m.end);  // other processes may write it
      continue;
    }
    tracked.add(m.start, m.end);
    if (report) dirty.add(DirtySet{{m.start, m.end}}.subtract(tracked_));  // not followed before
    pm.read(m.start, m.end, [&](uint64_t addr, const uint64_t* e, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        uint64_t a = addr + i * page, v = e[i];
        if (Pagemap::holdsData(v, kind, zeroPfn)) populated.add(a, a + page);
        if (report && (v & Pagemap::kSoftDirty)) dirty.add(a, a + page);
      }
    });
  }
  if (report) dirty.add(populated_.subtract(populated).intersect(scope));
  // Still frozen: no write can fall between the read above and the clear.
  clearSoftDirty(pid_);
  tracked_ = std::move(tracked);
  populated_ = std::move(populated);
  return dirty;
}

void SoftDirtyTracker::doArm(TrackTarget& target) { sweep(target, false); }

DirtySet SoftDirtyTracker::doCollect(TrackTarget& target) { return sweep(target, true); }

}  // namespace cryo
