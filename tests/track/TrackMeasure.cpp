// TrackMeasure: timings of the dirty-page backends, for reading rather than for pass/fail
// (built on request: `cmake --build . --target cryo_track_measure`).
//
//   collect over a 1 GiB populated region with 0.1 %, 1 %, 10 % of its pages written (spread
//   out: the worst case for ranges), for each available backend, plus one bare PAGEMAP_SCAN
//   WP_MATCHING call over the region; the cost of the first write to a protected page; and
//   which pages a collect reports when the program only answers a command.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/KernelCompat.h"
#include "common/ProcFs.h"
#include "inject/ProcessFreezer.h"
#include "track/FrozenTarget.h"
#include "track/Pagemap.h"
#include "track/TrackerFactory.h"
#include "PageWriter.h"

using namespace cryo;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kGiBPages = 262144;

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void collectTimes(const std::string& backend) {
  test::PageWriter w(kGiBPages, 16);
  auto tracker = TrackerFactory::create(backend);
  {
    ProcessFreezer f(w.pid());
    FrozenTarget t(f);
    auto s = Clock::now();
    tracker->arm(t);
    std::printf("%-10s arm (1 GiB populated): %8.2f ms\n", backend.c_str(), msSince(s));
  }
  for (uint64_t stride : {1000, 100, 10}) {
    uint64_t k = kGiBPages / stride;
    w.send("write 0 0 " + std::to_string(k) + " " + std::to_string(stride));
    ProcessFreezer f(w.pid());
    FrozenTarget t(f);
    t.maps();
    auto s = Clock::now();
    DirtySet d = tracker->collect(t);
    double ms = msSince(s);
    std::printf("%-10s collect, %5.1f %% written (%6llu pages): %8.2f ms, reported %llu pages in %zu ranges\n",
                backend.c_str(), 100.0 / static_cast<double>(stride), static_cast<unsigned long long>(k), ms,
                static_cast<unsigned long long>(d.pages(kPage)), d.rangeCount());
  }
  if (backend == "uffd-wp") {
    // Bare PAGEMAP_SCAN WP_MATCHING walks over the region alone, after writing 0.1/1/10 %:
    // reporting the written pages only (the kernel's fast path), and reporting every mapped
    // page with whether it was written (what a collect does, so that nothing unpopulated is
    // protected).
    const uint64_t start = w.regionA(), end = start + kGiBPages * kPage;
    for (int mode = 0; mode < 2; ++mode) {
      for (uint64_t stride : {1000, 100, 10}) {
        uint64_t k = kGiBPages / stride;
        w.send("write 0 " + std::to_string(1 + mode) + " " + std::to_string(k) + " " + std::to_string(stride));
        ProcessFreezer f(w.pid());
        Pagemap pm(w.pid());
        Pagemap::Query q{PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN};
        if (mode == 1)
          q = {PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, 0, 0, PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
               PAGE_IS_WRITTEN | PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO};
        uint64_t n = 0, regions = 0;
        auto s = Clock::now();
        pm.scan(start, end, q, [&](uint64_t a, uint64_t b, uint64_t c) {
          ++regions;
          if (c & PAGE_IS_WRITTEN) n += (b - a) / kPage;
        });
        std::printf("%-10s bare PAGEMAP_SCAN WP_MATCHING over 1 GiB, %s, %5.1f %%: %8.2f ms (%llu pages written, %llu regions)\n",
                    backend.c_str(), mode ? "all mapped pages" : "written only    ",
                    100.0 / static_cast<double>(stride), msSince(s), static_cast<unsigned long long>(n),
                    static_cast<unsigned long long>(regions));
      }
    }
  }
}

void noise(const std::string& backend) {
  test::PageWriter w;
  auto tracker = TrackerFactory::create(backend);
  {
    ProcessFreezer f(w.pid());
    FrozenTarget t(f);
    tracker->arm(t);
  }
  for (int round = 0; round < 3; ++round) {
    w.send("nop");
    ProcessFreezer f(w.pid());
    FrozenTarget t(f);
    DirtySet d = tracker->collect(t);
    std::printf("%-10s after a nop: %llu pages:", backend.c_str(),
                static_cast<unsigned long long>(d.pages(kPage)));
    for (uint64_t a : d.pageAddresses(kPage)) {
      std::string where = "?";
      for (const MapsEntry& m : t.maps())
        if (a >= m.start && a < m.end) where = m.path.empty() ? "anon" : m.path;
      std::printf(" %llx(%s)", static_cast<unsigned long long>(a), where.c_str());
    }
    std::printf("\n");
  }
}

// The first write to each page of a populated 1 GiB region: unprotected, then write-protected
// by async userfaultfd-wp (the kernel resolves the fault and clears the protection).
void writeCost() {
  const uint64_t len = kGiBPages * kPage;
  auto* m = static_cast<volatile char*>(
      ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ::madvise(const_cast<char*>(m), len, MADV_NOHUGEPAGE);
  for (uint64_t i = 0; i < len; i += kPage) m[i] = 1;
  auto pass = [&](const char* what) {
    auto s = Clock::now();
    for (uint64_t i = 0; i < len; i += kPage) m[i] = static_cast<char>(m[i] + 1);
    double ms = msSince(s);
    std::printf("write one byte per page, %-28s %8.2f ms (%6.0f ns per page)\n", what, ms,
                ms * 1e6 / static_cast<double>(kGiBPages));
  };
  pass("populated, unprotected:");
  int uffd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | 1));
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
  ::ioctl(uffd, UFFDIO_API, &api);
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<uint64_t>(m);
  reg.range.len = len;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  ::ioctl(uffd, UFFDIO_REGISTER, &reg);
  Pagemap pm(::getpid());
  auto s = Clock::now();
  pm.protect(reinterpret_cast<uint64_t>(m), reinterpret_cast<uint64_t>(m) + len);
  std::printf("protect 1 GiB (PAGEMAP_SCAN, no output):     %8.2f ms\n", msSince(s));
  pass("protected (uffd-wp async):");
  pass("again, unprotected since:");
  ::close(uffd);
  ::munmap(const_cast<char*>(m), len);
}

}  // namespace

int main() {
  std::printf("%s", TrackerFactory::report().c_str());
  for (const auto& b : TrackerFactory::backends()) {
    if (!b.available) continue;
    collectTimes(b.name);
    noise(b.name);
  }
  writeCost();
  return 0;
}
