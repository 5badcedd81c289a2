// SoftDirtyTracker: dirty-page tracking with the kernel's soft-dirty bits (clear_refs +
// pagemap bit 55), where the kernel has them (x86_64, powerpc64, s390 with
// CONFIG_MEM_SOFT_DIRTY; never arm64).
#include "track/SoftDirtyTracker.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {

constexpr uint64_t kSoftDirty = 1ULL << 55;

void clearRefs(pid_t pid) {
  std::string p = pid ? ProcFs::path(pid, "clear_refs") : "/proc/self/clear_refs";
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), "4", 1) != 1) failErrno("cannot clear soft-dirty bits ({})", p);
}

}  // namespace

bool SoftDirtyTracker::available(std::string& why) {
  // Clear the bits, write one page, look for its bit: a kernel without CONFIG_MEM_SOFT_DIRTY
  // accepts the clear but never sets the bit.
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    why = "cannot probe";
    return false;
  }
  bool ok = false;
  try {
    *static_cast<volatile char*>(p) = 1;
    clearRefs(0);
    *static_cast<volatile char*>(p) = 2;
    UniqueFd pm(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
    uint64_t e = 0;
    if (pm && ::pread(pm.get(), &e, 8, static_cast<off_t>(reinterpret_cast<uint64_t>(p) / 4096 * 8)) == 8)
      ok = e & kSoftDirty;
  } catch (const Error&) {
  }
  ::munmap(p, 4096);
  why = ok ? "clear_refs + pagemap soft-dirty bit"
           : "kernel built without CONFIG_MEM_SOFT_DIRTY (the bit never appears)";
  return ok;
}

void SoftDirtyTracker::arm(DumpContext& ctx) { clearRefs(ctx.pid()); }

PageRanges SoftDirtyTracker::changed(DumpContext& ctx) {
  PageRanges out;
  std::string p = ProcFs::path(ctx.pid(), "pagemap");
  UniqueFd pm(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!pm) failErrno("cannot open {}", p);
  std::vector<uint64_t> e;
  for (const MapsEntry& m : ctx.maps()) {
    if (!trackable(m)) continue;
    uint64_t n = m.size() / 4096;
    e.resize(n);
    if (::pread(pm.get(), e.data(), n * 8, static_cast<off_t>(m.start / 4096 * 8)) !=
        static_cast<ssize_t>(n * 8))
      failErrno("cannot read {}", p);
    for (uint64_t i = 0; i < n; ++i) {
      if (!(e[i] & kSoftDirty)) continue;
      uint64_t a = m.start + i * 4096;
      if (!out.empty() && out.back().second == a)
        out.back().second = a + 4096;
      else
        out.emplace_back(a, a + 4096);
    }
  }
  clearRefs(ctx.pid());
  return out;
}

}  // namespace cryo
