// PageReaderTest: the pages a tracker reported written are copied exactly; those that hold no
// data (dropped since, or all zeros) are stored as ZERO runs, with or without pagemap's word.
#include "dump/PageReader.h"

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "realtime/BufferPool.h"
#include "image/PageWriter.h"
#include "inject/RemoteMemory.h"
#include "IdleThread.h"
#include "PatternChild.h"
#include "TempDir.h"

namespace cryo {
namespace {

constexpr uint64_t kPage = test::kPatternPage;
using test::pattern;

TEST(PageReaderTest, written_pages_are_copied_exactly_and_empty_ones_stored_as_zero_runs) {
  test::PatternChild child;
  ASSERT_GT(child.pid, 0);
  ASSERT_NE(child.addr, 0u);
  test::TempDir dir("cryo-pagereader");
  std::string file = (dir / "pages.img").string();
  google::protobuf::RepeatedPtrField<img::PageRun> runs;
  {
    RemoteMemory mem(child.pid);
    PageWriter out(file);
    BufferPool pool(2, 8 << 20);
    PageReader reader(child.pid, mem, out, pool);
    // Single pages, as a tracker reports them (copied without reading pagemap), and one long
    // range (selected by pagemap).
    for (uint64_t page : {0, 1, 2, 4, 5})
      reader.addRange(child.addr + page * kPage, child.addr + (page + 1) * kPage,
                      PageReader::kAnonPresent, true);
    reader.addRange(child.addr + 8 * kPage, child.addr + 48 * kPage, PageReader::kAnonPresent,
                    true);
    reader.run(runs);
    reader.finish();
  }
  std::ifstream in(file, std::ios::binary);
  std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Page by page: what the image says each page holds.
  std::map<uint64_t, std::string> data;
  std::map<uint64_t, bool> zero;
  for (const img::PageRun& r : runs) {
    for (uint64_t i = 0; i < r.nr_pages(); ++i) {
      uint64_t page = (r.vaddr() - child.addr) / kPage + i;
      EXPECT_FALSE(zero.count(page) || data.count(page)) << "page " << page << " stored twice";
      if (r.kind() == img::PageRun::ZERO)
        zero[page] = true;
      else
        data[page] = stored.substr(r.offset() + i * kPage, kPage);
    }
  }
  for (uint64_t page : {0, 2, 17}) {
    ASSERT_TRUE(data.count(page)) << "page " << page << " not stored";
    for (uint64_t i = 0; i < kPage; ++i)
      ASSERT_EQ(static_cast<uint8_t>(data[page][i]), pattern(page, i)) << "page " << page;
  }
  for (uint64_t page : {1, 4, 5}) EXPECT_TRUE(zero.count(page)) << "page " << page;
  for (uint64_t page = 8; page < 48; ++page) {
    if (page == 17) continue;
    EXPECT_TRUE(zero.count(page)) << "page " << page;
  }
  EXPECT_EQ(data.size(), 3u);
}

// Fills `pages` page-aligned pages inside `memory` (sized for them and one more) with a byte
// of its own each; returns the first one's address.
uint64_t filledPages(std::vector<uint8_t>& memory, uint64_t pages) {
  memory.assign(pages * kPage + kPage, 0);
  uint64_t base = (reinterpret_cast<uint64_t>(memory.data()) + kPage - 1) & ~(kPage - 1);
  for (uint64_t p = 0; p < pages; ++p)
    std::memset(reinterpret_cast<void*>(base + p * kPage), static_cast<int>(p % 251 + 1), kPage);
  return base;
}

// Copies `pages` pages of this process (runs of 16) through a reader whose shared runner
// counts its calls; returns the DATA pages stored and sets `sharedParts` to the parts handed
// to the runner (0: never called).
uint64_t copyCountingShares(uint64_t pages, size_t& sharedParts) {
  std::vector<uint8_t> memory;
  uint64_t base = filledPages(memory, pages);
  test::TempDir dir("cryo-pagereader-shared");
  google::protobuf::RepeatedPtrField<img::PageRun> runs;
  sharedParts = 0;
  {
    RemoteMemory mem(::getpid());
    PageWriter out((dir / "pages.img").string());
    BufferPool pool(4, 8 << 20);
    PageReader reader(::getpid(), mem, out, pool);
    reader.setShared([&](size_t n, const std::function<void(size_t)>& fn) {
      sharedParts += n;
      for (size_t i = 0; i < n; ++i) fn(i);
    });
    for (uint64_t p = 0; p < pages; p += 16)
      reader.addRange(base + p * kPage, base + (p + 16) * kPage, PageReader::kAnonPresent, true);
    reader.run(runs);
    reader.finish();
  }
  uint64_t stored = 0;
  for (const img::PageRun& r : runs)
    if (r.kind() == img::PageRun::DATA) stored += r.nr_pages();
  return stored;
}

// A freeze's small copy (a few dozen pages) is made by the tracer thread alone: waking the
// helper for it cost twice the copy. A large one is still cut into parts for both.
TEST(PageReaderTest, small_copy_stays_on_the_calling_thread_and_a_large_one_is_shared) {
  size_t parts = 0;
  constexpr uint64_t kSmall = PageReader::kSharedMinPages / 4;
  EXPECT_EQ(copyCountingShares(kSmall, parts), kSmall);
  EXPECT_EQ(parts, 0u) << kSmall << " pages were handed to the shared runner";
  constexpr uint64_t kLarge = PageReader::kSharedMinPages * 16;
  EXPECT_EQ(copyCountingShares(kLarge, parts), kLarge);
  EXPECT_GE(parts, 2u) << kLarge << " pages were not shared";
}

// The tid of this process's thread named `name`, or 0.
pid_t threadNamed(const std::string& name) {
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(e.path() / "comm");
    std::string n;
    std::getline(comm, n);
    if (n == name) return static_cast<pid_t>(std::stol(e.path().filename().string()));
  }
  return 0;
}

// A copy that outgrows its buffers starts the storer from the copying thread. When that is the
// freeze's helper (idle policy, on the task's CPU), the storer must not inherit that: it would
// hardly run beside a busy task, and every later checkpoint would wait for it. It takes the
// policy and CPUs of the thread that made the reader. A watcher looks at the storer while it
// lives (it stores 64 MiB: milliseconds) and must see it there.
TEST(PageReaderTest, storer_started_by_an_idle_helper_runs_at_the_readers_owner_placement) {
  cpu_set_t mine;
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  if (CPU_COUNT(&mine) < 2) GTEST_SKIP() << "needs two CPUs to tell the sets apart";
  int myPolicy = ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
  // 16384 pages of this process in runs of 16 (copied without pagemap): 16 batches of 1024
  // pages through two buffers, so the third batch needs the storer.
  constexpr uint64_t kPages = 16384;
  std::vector<uint8_t> memory;
  uint64_t base = filledPages(memory, kPages);
  test::TempDir dir("cryo-pagereader-storer");
  google::protobuf::RepeatedPtrField<img::PageRun> runs;
  std::atomic<bool> stop{false}, seen{false}, seenHome{false};
  std::atomic<int> lastPolicy{-1};
  std::thread watcher([&] {
    while (!stop.load()) {
      pid_t storer = threadNamed("cryo-storer");
      if (storer <= 0) continue;
      int policy = ::sched_getscheduler(storer);
      cpu_set_t cpus;
      CPU_ZERO(&cpus);
      if (policy < 0 || ::sched_getaffinity(storer, sizeof cpus, &cpus) != 0) continue;
      seen = true;
      lastPolicy = policy;
      if (policy == myPolicy && CPU_EQUAL(&cpus, &mine)) seenHome = true;
    }
  });
  {
    RemoteMemory mem(::getpid());
    PageWriter out((dir / "pages.img").string());
    BufferPool pool(2, 8 << 20);
    PageReader reader(::getpid(), mem, out, pool);
    for (uint64_t p = 0; p < kPages; p += 16)
      reader.addRange(base + p * kPage, base + (p + 16) * kPage, PageReader::kAnonPresent, true);
    test::onIdleThread([&] { reader.run(runs); });
    EXPECT_TRUE(reader.storing()) << "the copy did not need the storer";
    reader.finish();
  }
  stop = true;
  watcher.join();
  ASSERT_TRUE(seen) << "the watcher never saw the storer";
  EXPECT_TRUE(seenHome) << "the storer ran at policy " << lastPolicy.load() << " (SCHED_IDLE is "
                        << SCHED_IDLE << "), not at its owner's " << myPolicy << " on its CPUs";
  uint64_t stored = 0;
  for (const img::PageRun& r : runs)
    if (r.kind() == img::PageRun::DATA) stored += r.nr_pages();
  EXPECT_EQ(stored, kPages);
}

}  // namespace
}  // namespace cryo
