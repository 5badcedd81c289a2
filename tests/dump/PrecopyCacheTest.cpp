// PrecopyCacheTest: pages copied while the task runs are stored exactly; those that hold no data
// (never touched, dropped, or copied unread and found all zeros) are stored as ZERO runs, whether
// the cache read pagemap first or took short private anonymous runs unread; the memory that held
// a checkpoint's copies goes back to the system once it is stored, but for what the next ones need.
#include "dump/PrecopyCache.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "image/PageWriter.h"
#include "TempDir.h"
#include "PatternChild.h"

namespace cryo {
namespace {

constexpr uint64_t kPage = test::kPatternPage;
using test::pattern;

// What the image says each of the child's pages holds: its data, or that it is a ZERO run.
struct Stored {
  std::map<uint64_t, std::string> data;
  std::map<uint64_t, bool> zero;
};

Stored copyAndStore(const test::PatternChild& child, bool unread, const std::string& file) {
  const uint64_t base = child.addr;
  DirtySet written;  // as a tracker reports it: single pages, and one long range
  for (uint64_t page : {0, 1, 2, 4, 5}) written.add(base + page * kPage, base + (page + 1) * kPage);
  written.add(base + 8 * kPage, base + 48 * kPage);
  DirtySet anon;
  if (unread) anon.add(base, base + 48 * kPage);
  google::protobuf::RepeatedPtrField<img::PageRun> runs;
  {
    PrecopyCache cache(child.pid);
    cache.copy(written, anon);
    PageWriter out(file);
    cache.store(out, DirtySet{{base, base + 48 * kPage}}, runs);
  }
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Stored s;
  for (const img::PageRun& r : runs) {
    for (uint64_t i = 0; i < r.nr_pages(); ++i) {
      uint64_t page = (r.vaddr() - base) / kPage + i;
      EXPECT_FALSE(s.zero.count(page) || s.data.count(page)) << "page " << page << " stored twice";
      if (r.kind() == img::PageRun::ZERO)
        s.zero[page] = true;
      else
        s.data[page] = bytes.substr(r.offset() + i * kPage, kPage);
    }
  }
  return s;
}

TEST(PrecopyCacheTest, copies_are_stored_exactly_and_pages_without_data_as_zero_runs) {
  test::PatternChild child;
  ASSERT_GT(child.pid, 0);
  ASSERT_NE(child.addr, 0u);
  auto dir = std::filesystem::temp_directory_path() /
             ("cryo-precopycache-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (bool unread : {false, true}) {
    SCOPED_TRACE(unread ? "short private anonymous runs copied unread" : "pagemap read first");
    Stored s = copyAndStore(child, unread, (dir / (unread ? "unread.img" : "read.img")).string());
    for (uint64_t page : {0, 2, 17}) {
      ASSERT_TRUE(s.data.count(page)) << "page " << page << " not stored";
      for (uint64_t i = 0; i < kPage; ++i)
        ASSERT_EQ(static_cast<uint8_t>(s.data[page][i]), pattern(page, i)) << "page " << page;
    }
    // Never touched and dropped: no data either way.
    for (uint64_t page : {1, 4}) EXPECT_TRUE(s.zero.count(page)) << "page " << page;
    for (uint64_t page = 8; page < 48; ++page) {
      if (page == 17) continue;
      EXPECT_TRUE(s.zero.count(page)) << "page " << page;
    }
    // Written with zeros: present, so pagemap says it holds data (stored as zeros); copied
    // unread, its zeros make it a ZERO run.
    if (unread) {
      EXPECT_TRUE(s.zero.count(5));
      EXPECT_EQ(s.data.size(), 3u);
    } else {
      ASSERT_TRUE(s.data.count(5));
      EXPECT_EQ(s.data[5], std::string(kPage, '\0'));
      EXPECT_EQ(s.data.size(), 4u);
    }
  }
  std::filesystem::remove_all(dir);
}

// Copies pages [first, first + n) of the child's bulk mapping, as one range a tracker reported.
uint64_t copyBulk(PrecopyCache& cache, const test::PatternChild& child, uint64_t first, uint64_t n) {
  DirtySet r;
  r.add(child.bulk + first * kPage, child.bulk + (first + n) * kPage);
  return cache.copy(r);
}

TEST(PrecopyCacheTest, memory_of_a_full_checkpoint_is_given_back_and_that_of_incremental_ones_kept) {
  constexpr uint64_t kBulk = 8192;  // 32 MiB
  test::PatternChild child(kBulk);
  ASSERT_GT(child.pid, 0);
  ASSERT_NE(child.bulk, 0u);
  PrecopyCache cache(child.pid);
  // A full checkpoint copies everything; none of that memory is kept for incremental ones.
  ASSERT_EQ(copyBulk(cache, child, 0, kBulk), kBulk);
  EXPECT_GE(cache.reservedPages(), kBulk);
  cache.endCheckpoint(true);
  EXPECT_EQ(cache.pages(), 0u);
  EXPECT_EQ(cache.reservedPages(), 0u) << "the full checkpoint's copy was kept";
  // An incremental checkpoint of 3000 pages: its memory is kept for the next ones...
  constexpr uint64_t kLarge = 3000, kSmall = 100;
  ASSERT_EQ(copyBulk(cache, child, 0, kLarge), kLarge);
  cache.endCheckpoint(false);
  uint64_t kept = cache.reservedPages();
  EXPECT_GE(kept, kLarge);
  EXPECT_LT(kept, kBulk);
  // ... while it is among the last kUsageHistory incremental ones.
  for (size_t i = 1; i < PrecopyCache::kUsageHistory; ++i) {
    ASSERT_EQ(copyBulk(cache, child, kLarge + i * kSmall, kSmall), kSmall);
    cache.endCheckpoint(false);
    EXPECT_EQ(cache.reservedPages(), kept) << "after " << i << " smaller checkpoints";
  }
  ASSERT_EQ(copyBulk(cache, child, 7000, kSmall), kSmall);
  cache.endCheckpoint(false);
  EXPECT_GE(cache.reservedPages(), kSmall);
  EXPECT_LT(cache.reservedPages(), kLarge) << "memory of an old, larger checkpoint was kept";
  // The cache goes on copying exactly, in kept memory and in memory mapped anew.
  ASSERT_EQ(copyBulk(cache, child, 4000, kLarge), kLarge);
  test::TempDir dir("cryo-precopycache-trim");
  std::string file = (dir / "pages.img").string();
  google::protobuf::RepeatedPtrField<img::PageRun> runs;
  {
    PageWriter out(file);
    DirtySet all;
    all.add(child.bulk, child.bulk + kBulk * kPage);
    EXPECT_EQ(cache.store(out, all, runs), kLarge);
  }
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t checked = 0;
  for (const img::PageRun& r : runs) {
    ASSERT_EQ(r.kind(), img::PageRun::DATA);
    for (uint64_t p = 0; p < r.nr_pages(); ++p, ++checked) {
      uint64_t page = (r.vaddr() - child.bulk) / kPage + p;
      for (uint64_t i = 0; i < kPage; i += 511)
        ASSERT_EQ(static_cast<uint8_t>(bytes[r.offset() + p * kPage + i]), pattern(page, i))
            << "page " << page;
    }
  }
  EXPECT_EQ(checked, kLarge);
}

}  // namespace
}  // namespace cryo
