// PageReaderTest: the pages a tracker reported written are copied exactly; those that hold no
// data (dropped since, or all zeros) are stored as ZERO runs, with or without pagemap's word.
#include "dump/PageReader.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <gtest/gtest.h>

#include "common/BufferPool.h"
#include "image/PageWriter.h"
#include "inject/RemoteMemory.h"

namespace cryo {
namespace {

constexpr uint64_t kPage = 4096;

uint8_t pattern(uint64_t page, uint64_t i) { return static_cast<uint8_t>(page * 31 + i * 7 + 1); }

// A child with 48 pages mapped: pages 0, 2 and 17 hold a pattern, page 4 was written and
// dropped, page 5 was written with zeros, the others were never touched. It waits, stopped.
struct Child {
  pid_t pid = -1;
  uint64_t addr = 0;
  Child() {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      auto* p = static_cast<uint8_t*>(::mmap(nullptr, 48 * kPage, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      if (p == MAP_FAILED) ::_exit(1);
      for (uint64_t page : {0, 2, 4, 17})
        for (uint64_t i = 0; i < kPage; ++i) p[page * kPage + i] = pattern(page, i);
      ::madvise(p + 4 * kPage, kPage, MADV_DONTNEED);
      std::memset(p + 5 * kPage, 0, kPage);
      uint64_t a = reinterpret_cast<uint64_t>(p);
      if (::write(fds[1], &a, sizeof a) != sizeof a) ::_exit(1);
      for (;;) ::pause();
    }
    ::close(fds[1]);
    if (::read(fds[0], &addr, sizeof addr) != sizeof addr) addr = 0;
    ::close(fds[0]);
  }
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

TEST(PageReaderTest, written_pages_are_copied_exactly_and_empty_ones_stored_as_zero_runs) {
  Child child;
  ASSERT_GT(child.pid, 0);
  ASSERT_NE(child.addr, 0u);
  auto dir = std::filesystem::temp_directory_path() /
             ("cryo-pagereader-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
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
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cryo
