// PageReaderTest: the pages a tracker reported written are copied exactly; those that hold no
// data (dropped since, or all zeros) are stored as ZERO runs, with or without pagemap's word.
#include "dump/PageReader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <gtest/gtest.h>

#include "common/BufferPool.h"
#include "image/PageWriter.h"
#include "inject/RemoteMemory.h"
#include "PatternChild.h"

namespace cryo {
namespace {

constexpr uint64_t kPage = test::kPatternPage;
using test::pattern;

TEST(PageReaderTest, written_pages_are_copied_exactly_and_empty_ones_stored_as_zero_runs) {
  test::PatternChild child;
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
