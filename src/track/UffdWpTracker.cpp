// UffdWpTracker: dirty-page tracking with userfaultfd write-protection in asynchronous mode
// (the kernel resolves write faults itself: the task never waits, never sees a signal) read
// and re-armed with the PAGEMAP_SCAN ioctl. Needs Linux 6.7; needs no soft-dirty bits.
//
// The userfaultfd is created inside the task (a userfaultfd belongs to the address space it
// was created in) by an injected syscall, taken into cryo with pidfd_getfd, and the task's own
// descriptor is closed again, so its fd table ends as it was. If cryo goes away the userfaultfd
// is released: the kernel drops the registrations and the protection, and the task runs on.
//
// Only pages that are mapped (present or swapped) are protected, each sweep in one PAGEMAP_SCAN
// walk per mapping that reports them, says which were written, and protects those again.
// Protecting a page that was never populated would cost a page-table marker (a page table per
// 2 MiB, whatever the size of the mapping: a reserved 64 GiB region costs 128 MiB), and markers
// show as swapped in /proc/PID/pagemap. Such a page needs no protection: a write populates it
// unprotected, which the next walk reports. A page that held data and was dropped
// (MADV_DONTNEED, a private copy given back to the file) is found by comparing what holds data
// now with the previous sweep.
#include "track/UffdWpTracker.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/KernelCompat.h"
#include "realtime/WorkShare.h"
#include "common/PidFd.h"
#include "inject/RemoteSyscalls.h"
#include "track/KernelFeatures.h"
#include "track/MappingPolicy.h"
#include "track/Pagemap.h"
#include "track/TrackTarget.h"

namespace cryo {

namespace {

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

constexpr uint64_t kFeatures = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;

// The pages a walk reports (and, when protecting, protects): every mapped page (present or
// swapped) but the shared zero page in anonymous memory; in a private file mapping every mapped
// page but the file's own page-cache pages (a write to one makes a new copy, unprotected). A
// swap entry there is a swapped-out copy, or the marker the kernel leaves where a protected
// copy was dropped (the page is the file's again). Each comes with whether it was written
// since it was last protected.
Pagemap::Query mappedQuery(MappingKind kind, bool protect) {
  Pagemap::Query q;
  q.flags = protect ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0;
  q.categoryAnyOf = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
  q.categoryMask = q.categoryInverted =
      kind == MappingKind::kPrivateAnon ? PAGE_IS_PFNZERO : PAGE_IS_FILE;
  q.returnMask = PAGE_IS_WRITTEN | PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
  return q;
}

// In a marked mapping (every page protected, never-populated ones through a marker): the
// written pages alone, protected again in the same walk. A page dropped since (MADV_DONTNEED)
// has neither page nor marker and counts as written too. Requiring PAGE_IS_WRITTEN alone lets
// the kernel skip every protected page (its fast path): a few tenths of a millisecond per GiB
// against about two for a walk that classifies every page.
Pagemap::Query writtenQuery(bool protect) {
  Pagemap::Query q;
  q.flags = protect ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0;
  q.categoryMask = PAGE_IS_WRITTEN;
  q.returnMask = PAGE_IS_WRITTEN;
  return q;
}

// In pieces a second thread may take (WorkShare::each: a freeze's tracer thread that would
// otherwise wait for the result): splitting the walk costs about 1.5 us a piece, two threads
// take half the time each.
constexpr uint64_t kChunk = 32ULL << 20;
bool walkedInChunks(const MapsEntry& m) { return m.size() >= 2 * kChunk; }

int scanInChunks(Pagemap& pm, const MapsEntry& m, const Pagemap::Query& q, DirtySet& written) {
  if (!WorkShare::ofThisThread() || !walkedInChunks(m))
    return pm.scan(m.start, m.end, q, [&](uint64_t s, uint64_t e, uint64_t) { written.add(s, e); });
  size_t n = static_cast<size_t>((m.size() + kChunk - 1) / kChunk);
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> found(n);
  std::vector<int> errs(n, 0);
  WorkShare::each(n, [&](size_t i) {
    uint64_t s = m.start + i * kChunk, e = std::min(m.end, s + kChunk);
    errs[i] = pm.scan(s, e, q, [&](uint64_t a, uint64_t b, uint64_t) { found[i].emplace_back(a, b); });
  });
  for (size_t i = 0; i < n; ++i) {
    if (errs[i]) return errs[i];
    for (const auto& [s, e] : found[i]) written.add(s, e);
  }
  return 0;
}

// Private anonymous mappings up to this size are marked: markers cost the page tables of the
// never-populated part (4 KiB per 2 MiB), at most 8 MiB here. Larger (typically reserved,
// sparse) mappings protect only what holds data and find dropped pages by a full walk.
constexpr uint64_t kMarkedMaxBytes = 4ULL << 30;

}  // namespace

UffdWpTracker::UffdWpTracker() : UffdWpTracker(Options{}) {}
UffdWpTracker::UffdWpTracker(Options opts) : opts_(opts) {}
UffdWpTracker::~UffdWpTracker() = default;

bool UffdWpTracker::available(std::string& why) {
  const KernelFeatures& k = KernelFeatures::get();
  why = k.uffdWpDetail();
  return k.uffdWpTracking();
}

void UffdWpTracker::open(TrackTarget& target) {
  uffd_.reset();
  pagemap_.reset();
  registered_.clear();
  populated_.clear();
  marked_.clear();
  pid_ = target.pid();
  RemoteSyscalls& rs = target.syscalls();
  long r = rs.call(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
  if (r < 0)
    throw SysError(fmt::format("pid {}: cannot create a userfaultfd inside the task", pid_),
                   static_cast<int>(-r));
  uint64_t remote = static_cast<uint64_t>(r);
  UniqueFd fd;
  try {
    PidFd pidfd(pid_);
    fd = pidfd.take(static_cast<int>(remote));
  } catch (...) {
    rs.call(SYS_close, remote);
    throw;
  }
  rs.check("close of the task's copy of the userfaultfd", SYS_close, remote);
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = kFeatures;
  if (::ioctl(fd.get(), UFFDIO_API, &api) != 0)
    failErrno("pid {}: UFFDIO_API with WP_ASYNC|WP_UNPOPULATED refused", pid_);
  if (!(api.features & UFFD_FEATURE_WP_ASYNC))
    fail("pid {}: the userfaultfd has no asynchronous write-protect mode", pid_);
  // WP_UNPOPULATED is what lets PAGEMAP_SCAN protect anonymous memory (the kernel grants it
  // with WP_ASYNC); without it, anonymous ranges are protected with UFFDIO_WRITEPROTECT.
  if (!(api.features & UFFD_FEATURE_WP_UNPOPULATED))
    spdlog::debug("pid {}: userfaultfd without WP_UNPOPULATED", pid_);
  uffd_ = std::move(fd);
}

int UffdWpTracker::registerRange(uint64_t start, uint64_t end) {
  ++generation_;
  uffdio_register reg{};
  reg.range.start = start;
  reg.range.len = end - start;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  return ::ioctl(uffd_.get(), UFFDIO_REGISTER, &reg) == 0 ? 0 : errno;
}

int UffdWpTracker::writeProtect(uint64_t start, uint64_t end) {
  uffdio_writeprotect wp{};
  wp.range.start = start;
  wp.range.len = end - start;
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  return ::ioctl(uffd_.get(), UFFDIO_WRITEPROTECT, &wp) == 0 ? 0 : errno;
}

// After an exec the task has a new address space: our userfaultfd (and every registration)
// belongs to the old one, and no mapping carries the "uw" flag of a range we registered.
bool UffdWpTracker::registrationsLost(TrackTarget& target) const {
  if (registered_.empty()) return false;
  for (const MapsEntry& m : target.maps())
    if (m.hasFlag("uw") && !registered_.clip(m.start, m.end).empty()) return false;
  return true;
}

int UffdWpTracker::scanMapping(Pagemap& pm, const MapsEntry& m, MappingKind kind, bool protect,
                               DirtySet& written, DirtySet& data, DirtySet* unprotected) {
  return pm.scan(m.start, m.end, mappedQuery(kind, protect), [&](uint64_t s, uint64_t e, uint64_t c) {
    // Data a checkpoint stores: anything here in anonymous memory; in a private file mapping
    // a present copy (a swap entry may be a marker, and a swapped copy counts as dropped).
    bool holdsData = kind == MappingKind::kPrivateAnon || (c & PAGE_IS_PRESENT);
    if (holdsData) data.add(s, e);
    if (!(c & PAGE_IS_WRITTEN)) return;
    written.add(s, e);
    if (unprotected) unprotected->add(s, e);
  });
}

void UffdWpTracker::sweepMapping(Pagemap& pm, const MapsEntry& m, MappingKind kind, DirtySet* dirty,
                                 DirtySet& data) {
  DirtySet written;
  if (opts_.protectWithScan) {
    // One walk: report what holds data, which of it was written, and protect it again.
    DirtySet d;
    int err = scanMapping(pm, m, kind, true, written, d, nullptr);
    if (err == 0) {
      if (dirty) dirty->add(written);
      data.add(d);
      return;
    }
    // Whatever the failed walk protected went unreported: report the mapping whole, and
    // protect it the other way.
    spdlog::debug("pid {}: PAGEMAP_SCAN cannot protect {:#x}-{:#x} {} ({}); using UFFDIO_WRITEPROTECT",
                  pid_, m.start, m.end, m.path, std::strerror(err));
    if (dirty) dirty->add(m.start, m.end);
    written.clear();
  }
  DirtySet unprotected;
  int err = scanMapping(pm, m, kind, false, written, data, &unprotected);
  if (err)
    throw SysError(fmt::format("pid {}: PAGEMAP_SCAN of {:#x}-{:#x} {}", pid_, m.start, m.end, m.path), err);
  for (const auto& [s, e] : unprotected.ranges())
    if (int werr = writeProtect(s, e))
      throw SysError(fmt::format("pid {}: cannot write-protect {:#x}-{:#x}", pid_, s, e), werr);
  if (dirty) dirty->add(written);
}

DirtySet UffdWpTracker::sweep(TrackTarget& target, bool report) {
  if (!uffd_ || pid_ != target.pid()) {
    open(target);
  } else if (registrationsLost(target)) {
    spdlog::debug("pid {}: no mapping is registered any more (exec?): new userfaultfd", pid_);
    open(target);
  }
  // Kept open from one sweep to the next (opening it costs tens of microseconds in a freeze);
  // a new address space (open() above) gets a descriptor of its own.
  if (!pagemap_) pagemap_ = std::make_unique<Pagemap>(target.pid());
  Pagemap& pm = *pagemap_;
  DirtySet dirty;        // the answer
  DirtySet scope;        // the mappings a checkpoint stores pages of
  DirtySet registered;   // what is registered after this sweep
  DirtySet populated;    // what holds data now (unmarked mappings)
  DirtySet marked;       // mappings protected whole, markers included

  // The mappings walked in pieces come last: what is left of a sweep when a second thread
  // joins it (WorkShare) is then work that both can share.
  std::vector<const MapsEntry*> order;
  order.reserve(target.maps().size());
  for (bool chunked : {false, true})
    for (const MapsEntry& m : target.maps())
      if (walkedInChunks(m) == chunked) order.push_back(&m);
  for (const MapsEntry* mp : order) {
    const MapsEntry& m = *mp;
    MappingKind kind = MappingPolicy::classify(m);
    if (kind == MappingKind::kUntracked) continue;
    scope.add(m.start, m.end);
    if (kind == MappingKind::kSharedAnon) {
      // Other processes may write it, and a written page may leave our page tables before
      // the next checkpoint while its data stays: no page-table method can follow it.
      if (report) dirty.add(m.start, m.end);
      continue;
    }
    DirtySet whole{{m.start, m.end}};
    DirtySet known = m.hasFlag("uw") ? registered_.intersect(whole) : DirtySet{};
    if (!known.covers(m.start, m.end)) {
      // New, grown or moved: the part we did not follow is reported whole.
      if (report) dirty.add(whole.subtract(known));
      if (int err = registerRange(m.start, m.end)) {
        spdlog::debug("pid {}: cannot register {:#x}-{:#x} {} ({}): reported whole each time",
                      pid_, m.start, m.end, m.path, std::strerror(err));
        if (report) dirty.add(m.start, m.end);
        continue;
      }
    }
    registered.add(m.start, m.end);

    if (kind == MappingKind::kPrivateAnon && m.size() <= kMarkedMaxBytes &&
        KernelFeatures::get().uffdWpMarkerEntry() != 0) {
      sweepMarked(pm, m, report ? &dirty : nullptr, marked);
      continue;
    }
    sweepMapping(pm, m, kind, report ? &dirty : nullptr, populated);
  }
  // Pages that held data and hold none now: dropped, so an older copy must not come back.
  if (report) dirty.add(populated_.subtract(populated).intersect(scope));
  registered_ = std::move(registered);
  populated_ = std::move(populated);
  marked_ = std::move(marked);
  return dirty;
}

void UffdWpTracker::sweepMarked(Pagemap& pm, const MapsEntry& m, DirtySet* dirty,
                                DirtySet& marked) {
  DirtySet whole{{m.start, m.end}};
  DirtySet known = marked_.intersect(whole);
  if (known.covers(m.start, m.end)) {
    DirtySet written;
    // Re-arming left to the next collect: the written pages stay writable (their writes
    // from now on fault no more) and that collect reports them again.
    int err = scanInChunks(pm, m, writtenQuery(!rearmLater_), written);
    if (err == 0) {
      if (dirty) dirty->add(written);
      marked.add(m.start, m.end);
      return;
    }
    spdlog::debug("pid {}: PAGEMAP_SCAN of marked {:#x}-{:#x} failed ({}): reported whole, "
                  "protected anew",
                  pid_, m.start, m.end, std::strerror(err));
    known = DirtySet{};  // what the failed walk found is not all that was written
  }
  // Not marked yet, or only in part (new, grown, merged with a neighbour, or followed the other
  // way until now). The known part: its written pages are reported and protected again in one
  // walk (protecting it with the rest would clear their written bits unseen, and a page the
  // running task writes after that walk must stay written). The rest: reported whole (a page
  // dropped under the other way would go unseen) and protected, markers included.
  DirtySet unknown = whole.subtract(known);
  for (const auto& [s, e] : known.ranges()) {
    MapsEntry part = m;
    part.start = s;
    part.end = e;
    DirtySet written;
    if (int err = scanInChunks(pm, part, writtenQuery(true), written))
      throw SysError(fmt::format("pid {}: PAGEMAP_SCAN of {:#x}-{:#x} {}", pid_, s, e, m.path), err);
    if (dirty) dirty->add(written);
  }
  if (!known.empty())
    spdlog::debug("pid {}: {:#x}-{:#x} {} followed in part ({} of {} pages): the rest is new",
                  pid_, m.start, m.end, m.path, known.pages(4096), whole.pages(4096));
  if (dirty) dirty->add(unknown);
  for (const auto& [s, e] : unknown.ranges())
    if (int err = pm.protect(s, e))
      throw SysError(fmt::format("pid {}: cannot write-protect {:#x}-{:#x} {}", pid_, s, e, m.path),
                     err);
  marked.add(m.start, m.end);
}

void UffdWpTracker::doArm(TrackTarget& target) { sweep(target, false); }

DirtySet UffdWpTracker::doCollect(TrackTarget& target) { return sweep(target, true); }

// A sweep injects only to open a userfaultfd (first use, another task, or after an exec);
// otherwise it makes ioctls on cryo's own descriptors alone.
bool UffdWpTracker::collectInjects(TrackTarget& target) {
  return !uffd_ || pid_ != target.pid() || registrationsLost(target);
}

}  // namespace cryo
