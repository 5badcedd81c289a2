// UffdWpTracker: dirty-page tracking with userfaultfd write-protection in asynchronous mode
// (the kernel resolves the faults itself, the task never waits) read and re-armed atomically
// with the PAGEMAP_SCAN ioctl. Works on arm64 as on x86_64; needs no soft-dirty bits.
#include "track/UffdWpTracker.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "common/Error.h"
#include "common/KernelCompat.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {

constexpr uint64_t kFeatures = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;

bool apiOk(int fd, std::string& why) {
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = kFeatures;
  if (::ioctl(fd, UFFDIO_API, &api) != 0) {
    why = fmt::format("UFFDIO_API with WP_ASYNC|WP_UNPOPULATED refused: {}", strerror(errno));
    return false;
  }
  return true;
}

void addRange(PageRanges& out, uint64_t s, uint64_t e) {
  if (!out.empty() && out.back().second == s)
    out.back().second = e;
  else
    out.emplace_back(s, e);
}

}  // namespace

bool UffdWpTracker::available(std::string& why) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));
  if (!fd) {
    why = fmt::format("userfaultfd unavailable: {}", strerror(errno));
    return false;
  }
  if (!apiOk(fd.get(), why)) return false;
  // PAGEMAP_SCAN (6.7): an empty scan of our own address space must be understood.
  UniqueFd pm(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  page_region r{};
  pm_scan_arg a{};
  a.size = sizeof a;
  a.start = a.end = 0x10000;
  a.vec = reinterpret_cast<uint64_t>(&r);
  a.vec_len = 1;
  a.category_mask = PAGE_IS_WRITTEN;
  a.return_mask = PAGE_IS_WRITTEN;
  if (!pm || ::ioctl(pm.get(), PAGEMAP_SCAN, &a) < 0) {
    why = fmt::format("PAGEMAP_SCAN unavailable: {}", strerror(errno));
    return false;
  }
  why = "userfaultfd WP_ASYNC + PAGEMAP_SCAN";
  return true;
}

void UffdWpTracker::open(DumpContext& ctx) {
  // A userfaultfd belongs to the address space it was created in: create it inside the task,
  // keep the only reference in cryo (the task's fd table ends as it was). If cryo goes away
  // the uffd is released and the task runs on untracked.
  pid_ = ctx.pid();
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  int remote = static_cast<int>(rs.check("userfaultfd", SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  try {
    uffd_ = ctx.takeFd(remote);
  } catch (...) {
    rs.call(SYS_close, static_cast<uint64_t>(remote));
    throw;
  }
  rs.check("close of the task's userfaultfd", SYS_close, static_cast<uint64_t>(remote));
  std::string why;
  if (!apiOk(uffd_.get(), why)) fail("pid {}: {}", pid_, why);
  std::string pm = ProcFs::path(pid_, "pagemap");
  pagemap_.reset(::open(pm.c_str(), O_RDONLY | O_CLOEXEC));
  if (!pagemap_) failErrno("cannot open {}", pm);
}

void UffdWpTracker::protect(DumpContext& ctx, uint64_t start, uint64_t end) {
  uffdio_register reg{};
  reg.range.start = start;
  reg.range.len = end - start;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  if (::ioctl(uffd_.get(), UFFDIO_REGISTER, &reg) != 0)
    failErrno("pid {}: cannot register {:#x}-{:#x} for write tracking", ctx.pid(), start, end);
  uffdio_writeprotect wp{};
  wp.range.start = start;
  wp.range.len = end - start;
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  if (::ioctl(uffd_.get(), UFFDIO_WRITEPROTECT, &wp) != 0)
    failErrno("pid {}: cannot write-protect {:#x}-{:#x}", ctx.pid(), start, end);
}

void UffdWpTracker::arm(DumpContext& ctx) {
  if (!uffd_ || pid_ != ctx.pid()) open(ctx);
  for (const MapsEntry& m : ctx.maps())
    if (trackable(m) && !m.hasFlag("uw")) protect(ctx, m.start, m.end);
}

PageRanges UffdWpTracker::changed(DumpContext& ctx) {
  if (!uffd_) fail("pid {}: write tracking was never armed", ctx.pid());
  PageRanges out;
  std::vector<page_region> vec(4096);
  for (const MapsEntry& m : ctx.maps()) {
    if (!trackable(m)) continue;
    if (!m.hasFlag("uw")) {  // new, grown into a new mapping, or moved: all of it
      addRange(out, m.start, m.end);
      continue;
    }
    uint64_t pos = m.start;
    while (pos < m.end) {
      pm_scan_arg a{};
      a.size = sizeof a;
      a.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
      a.start = pos;
      a.end = m.end;
      a.vec = reinterpret_cast<uint64_t>(vec.data());
      a.vec_len = vec.size();
      a.category_mask = PAGE_IS_WRITTEN;
      a.return_mask = PAGE_IS_WRITTEN;
      long n = ::ioctl(pagemap_.get(), PAGEMAP_SCAN, &a);
      if (n < 0) failErrno("pid {}: PAGEMAP_SCAN of {:#x}-{:#x} failed", ctx.pid(), pos, m.end);
      for (long i = 0; i < n; ++i) addRange(out, vec[static_cast<size_t>(i)].start, vec[static_cast<size_t>(i)].end);
      if (a.walk_end <= pos) break;
      pos = a.walk_end;
    }
  }
  return out;
}

void UffdWpTracker::trackNew(DumpContext& ctx) {
  for (const MapsEntry& m : ctx.maps())
    if (trackable(m) && !m.hasFlag("uw")) protect(ctx, m.start, m.end);
}

}  // namespace cryo
