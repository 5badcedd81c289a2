// KernelFeatures: what this kernel offers for dirty-page tracking, probed at run time once per
// cryo process: userfaultfd and its asynchronous write-protect mode, PAGEMAP_SCAN, soft-dirty
// bits. Each probe exercises the feature for real (on cryo's own memory, or on a short-lived
// child), so a feature that is compiled in but does not work counts as missing.
#include "track/KernelFeatures.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/KernelCompat.h"
#include "common/UniqueFd.h"

namespace cryo {

namespace {

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

constexpr uint64_t kWanted = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;

std::string errnoText(int e) { return fmt::format("{} ({})", std::strerror(e), e); }

// Child exit codes of the soft-dirty probe.
enum : int { kSdWorks = 0, kSdNoBit = 1, kSdStaleBit = 2, kSdClearFailed = 3, kSdSetupFailed = 4 };

}  // namespace

const KernelFeatures& KernelFeatures::get() {
  static const KernelFeatures f;
  return f;
}

KernelFeatures::KernelFeatures() {
  probeUffd();
}

void KernelFeatures::ensureSoftDirtyProbed() const {
  std::call_once(softDirtyOnce_, [this] { const_cast<KernelFeatures*>(this)->probeSoftDirty(); });
}

bool KernelFeatures::uffdWpAsync() const { return uffdFeatures_ & UFFD_FEATURE_WP_ASYNC; }
bool KernelFeatures::uffdWpUnpopulated() const {
  return uffdFeatures_ & UFFD_FEATURE_WP_UNPOPULATED;
}

void KernelFeatures::probeUffd() {
  UniqueFd uffd(static_cast<int>(
      ::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)));
  if (!uffd) {
    int e = errno;
    uffdWpDetail_ = e == ENOSYS ? "kernel built without CONFIG_USERFAULTFD"
                                : fmt::format("userfaultfd refused: {}", errnoText(e));
    return;
  }
  userfaultfd_ = true;
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = kWanted;
  if (::ioctl(uffd.get(), UFFDIO_API, &api) != 0) {
    uffdWpDetail_ = fmt::format(
        "userfaultfd without WP_ASYNC (kernel older than 6.7?): UFFDIO_API refused {:#x}: {}",
        kWanted, errnoText(errno));
    return;
  }
  uffdFeatures_ = api.features;
  if (!uffdWpAsync()) {
    uffdWpDetail_ = "userfaultfd lacks UFFD_FEATURE_WP_ASYNC";
    return;
  }

  // PAGEMAP_SCAN and the whole cycle on two pages of our own: register, protect, write one.
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  UniqueFd pm(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (!pm) {
    uffdWpDetail_ = fmt::format("cannot open /proc/self/pagemap: {}", errnoText(errno));
    return;
  }
  void* mem = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    uffdWpDetail_ = fmt::format("cannot map probe pages: {}", errnoText(errno));
    return;
  }
  auto* p = static_cast<volatile char*>(mem);
  p[0] = 1;
  p[page] = 1;
  const uint64_t start = reinterpret_cast<uint64_t>(mem), end = start + 2 * page;
  page_region regions[4]{};
  auto scan = [&](uint64_t flags) -> long {
    pm_scan_arg a{};
    a.size = sizeof a;
    a.flags = flags;
    a.start = start;
    a.end = end;
    a.vec = reinterpret_cast<uint64_t>(regions);
    a.vec_len = 4;
    a.category_mask = PAGE_IS_WRITTEN;
    a.return_mask = PAGE_IS_WRITTEN;
    return ::ioctl(pm.get(), PAGEMAP_SCAN, &a);
  };
  uffdio_register reg{};
  reg.range.start = start;
  reg.range.len = 2 * page;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  std::string why;
  pagemapScan_ = scan(0) >= 0;
  if (!pagemapScan_) {
    why = errno == ENOTTY || errno == EINVAL
              ? "no PAGEMAP_SCAN ioctl (kernel older than 6.7)"
              : fmt::format("PAGEMAP_SCAN failed: {}", errnoText(errno));
  } else if (::ioctl(uffd.get(), UFFDIO_REGISTER, &reg) != 0) {
    why = fmt::format("UFFDIO_REGISTER in write-protect mode failed: {}", errnoText(errno));
  } else if (scan(PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC) < 0) {
    why = fmt::format("PAGEMAP_SCAN cannot write-protect: {}", errnoText(errno));
  } else {
    p[page] = 2;
    long n = scan(PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC);
    if (n == 1 && regions[0].start == start + page && regions[0].end == end)
      uffdWpTracking_ = true;
    else
      why = fmt::format("a write to a protected page is not reported as expected (got {})", n);
  }
  ::munmap(mem, 2 * page);  // also ends the registration
  if (uffdWpTracking_ && uffdWpUnpopulated()) probeMarker(uffd.get(), pm.get());
  if (!uffdWpTracking_) {
    uffdWpDetail_ = why;
    return;
  }
  uffdWpDetail_ = uffdWpUnpopulated() ? "userfaultfd WP_ASYNC + PAGEMAP_SCAN"
                                      : "userfaultfd WP_ASYNC + PAGEMAP_SCAN (no WP_UNPOPULATED)";
}

void KernelFeatures::probeMarker(int uffd, int pagemap) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  void* mem = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  const uint64_t start = reinterpret_cast<uint64_t>(mem);
  uffdio_register reg{};
  reg.range.start = start;
  reg.range.len = page;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  pm_scan_arg a{};
  a.size = sizeof a;
  a.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
  a.start = start;
  a.end = start + page;
  a.category_mask = PAGE_IS_WRITTEN;
  a.return_mask = PAGE_IS_WRITTEN;
  uint64_t entry = 0;
  if (::ioctl(uffd, UFFDIO_REGISTER, &reg) == 0 && ::ioctl(pagemap, PAGEMAP_SCAN, &a) >= 0 &&
      ::pread(pagemap, &entry, sizeof entry, static_cast<off_t>(start / page * 8)) == 8 &&
      !(entry & (1ULL << 63)))
    markerEntry_ = entry & ~kEntryNoise;
  ::munmap(mem, page);
}

void KernelFeatures::probeSoftDirty() {
  // In a child, so that clearing the bits leaves cryo's own page tables alone. The child
  // makes raw system calls only (the parent may have other threads).
  pid_t child = ::fork();
  if (child < 0) {
    softDirtyDetail_ = fmt::format("cannot probe (fork: {})", errnoText(errno));
    return;
  }
  if (child == 0) {
    const long page = ::sysconf(_SC_PAGESIZE);
    char* m = static_cast<char*>(
        ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    int clear = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    int pm = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (m == MAP_FAILED || clear < 0 || pm < 0) ::_exit(kSdSetupFailed);
    m[0] = 1;
    m[page] = 1;
    if (::write(clear, "4", 1) != 1) ::_exit(kSdClearFailed);
    m[page] = 2;  // only the second page is written after the clear
    uint64_t e[2] = {0, 0};
    if (::pread(pm, e, sizeof e, reinterpret_cast<uint64_t>(m) / page * 8) != sizeof e)
      ::_exit(kSdSetupFailed);
    bool first = e[0] & (1ULL << 55), second = e[1] & (1ULL << 55);
    ::_exit(second ? (first ? kSdStaleBit : kSdWorks) : kSdNoBit);
  }
  int status = 0;
  pid_t w;
  while ((w = ::waitpid(child, &status, 0)) < 0 && errno == EINTR) {
  }
  int code = w == child && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  switch (code) {
    case kSdWorks:
      softDirty_ = true;
      softDirtyDetail_ = "clear_refs + pagemap soft-dirty bit";
      break;
    case kSdNoBit:
      softDirtyDetail_ = "kernel built without CONFIG_MEM_SOFT_DIRTY (a page written after "
                         "clear_refs never shows the soft-dirty bit)";
      break;
    case kSdStaleBit:
      softDirtyDetail_ = "clear_refs does not clear the soft-dirty bits";
      break;
    case kSdClearFailed:
      softDirtyDetail_ = "writing 4 to clear_refs failed";
      break;
    default:
      softDirtyDetail_ = "cannot probe (the probe process failed)";
      break;
  }
}

}  // namespace cryo
