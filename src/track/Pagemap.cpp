// Pagemap: /proc/PID/pagemap of one task, read two ways: its 64-bit entries page by page, and
// the PAGEMAP_SCAN ioctl (Linux 6.7), which returns ranges of pages by category and can
// write-protect (userfaultfd-wp) the pages it reports in the same walk.
#include "track/Pagemap.h"
#include "track/KernelFeatures.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "common/Error.h"
#include "common/ProcFs.h"

namespace cryo {

namespace {
constexpr size_t kEntriesPerRead = 64 * 1024;  // 512 KiB of entries, 256 MiB of memory
uint64_t pageSize() {
  static const uint64_t p = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return p;
}
}  // namespace

Pagemap::Pagemap(pid_t pid) : pid_(pid) {
  std::string p = ProcFs::path(pid, "pagemap");
  fd_.reset(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd_) failErrno("cannot open {}", p);
}

void Pagemap::read(uint64_t start, uint64_t end,
                   const std::function<void(uint64_t, const uint64_t*, size_t)>& fn) {
  const uint64_t page = pageSize();
  for (uint64_t a = start; a < end;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>((end - a) / page, kEntriesPerRead));
    if (n == 0) break;
    thread_local std::vector<uint64_t> buf;  // (several threads may read at once)
    buf.resize(n);
    size_t want = n * sizeof(uint64_t), got = 0;
    while (got < want) {
      ssize_t r = ::pread(fd_.get(), reinterpret_cast<char*>(buf.data()) + got, want - got,
                          static_cast<off_t>(a / page * sizeof(uint64_t) + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) failErrno("pid {}: cannot read pagemap for {:#x}-{:#x}", pid_, a, a + n * page);
      got += static_cast<size_t>(r);
    }
    fn(a, buf.data(), n);
    a += n * page;
  }
}

bool Pagemap::holdsData(uint64_t e, MappingKind kind, uint64_t zeroPfn) {
  if (e & kPresent)
    return kind == MappingKind::kPrivateAnon ? !(zeroPfn && (e & kPfnMask) == zeroPfn)
                                             : !(e & kFileOrShared);
  return (e & kSwapped) && !KernelFeatures::get().isUffdWpMarker(e);
}

void Pagemap::entries(uint64_t start, uint64_t end, std::vector<uint64_t>& out) {
  const uint64_t page = pageSize();
  out.resize(static_cast<size_t>((end - start) / page));
  // Exactly the range: the kernel builds every entry it is asked for (about 25 ns each, PFNs
  // looked up), so reading ahead costs more than another pread (about 0.5 us) saves.
  read(start, end, [&](uint64_t a, const uint64_t* e, size_t k) {
    std::copy(e, e + k, out.begin() + static_cast<long>((a - start) / page));
  });
}

int Pagemap::scan(uint64_t start, uint64_t end, const Query& q,
                  const std::function<void(uint64_t, uint64_t, uint64_t)>& fn, uint64_t* doneUpTo) {
  thread_local std::vector<page_region> regions(kRegionsPerCall);
  uint64_t pos = start;
  while (pos < end) {
    pm_scan_arg a{};
    a.size = sizeof a;
    a.flags = q.flags;
    a.start = pos;
    a.end = end;
    a.vec = reinterpret_cast<uint64_t>(regions.data());
    a.vec_len = regions.size();
    a.category_inverted = q.categoryInverted;
    a.category_mask = q.categoryMask;
    a.category_anyof_mask = q.categoryAnyOf;
    a.return_mask = q.returnMask;
    long n = ::ioctl(fd_.get(), PAGEMAP_SCAN, &a);
    if (n < 0) {
      int err = errno;
      if (doneUpTo) *doneUpTo = pos;
      return err;
    }
    for (long i = 0; i < n; ++i) {
      const page_region& r = regions[static_cast<size_t>(i)];
      fn(r.start, r.end, r.categories);
    }
    // A full buffer stops the walk early; walk_end says where to go on.
    if (a.walk_end <= pos) {
      if (doneUpTo) *doneUpTo = pos;
      return EIO;  // no progress: never expected
    }
    pos = a.walk_end;
  }
  if (doneUpTo) *doneUpTo = end;
  return 0;
}

int Pagemap::protect(uint64_t start, uint64_t end) {
  pm_scan_arg a{};
  a.size = sizeof a;
  a.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
  a.start = start;
  a.end = end;
  a.category_mask = PAGE_IS_WRITTEN;
  a.return_mask = PAGE_IS_WRITTEN;
  if (::ioctl(fd_.get(), PAGEMAP_SCAN, &a) < 0) return errno;
  return a.walk_end >= end ? 0 : EIO;
}

}  // namespace cryo
