// FileMappingCacheTest: a file mapping described while the task ran is reused only while
// /proc/PID/maps shows it unchanged: the same file at the same place, not another file
// mapped over it, not a file renamed over its path; one that cannot be described is left out;
// a deleted file is described by its old name and inode.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/ProcFs.h"
#include "dump/FileMappingCache.h"
#include "dump/MemoryCollector.h"

namespace cryo {
namespace {

namespace fs = std::filesystem;
constexpr size_t kSize = 2 * 4096;

class FileMappingCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cryo-fmc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (addr_) ::munmap(addr_, kSize);
    fs::remove_all(dir_);
  }

  fs::path makeFile(const std::string& name, char fill) {
    fs::path p = dir_ / name;
    std::string data(kSize, fill);
    FILE* f = std::fopen(p.c_str(), "w");
    EXPECT_NE(f, nullptr);
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
    return p;
  }

  // Maps `p` read-only and private at addr_ (chosen by the kernel the first time).
  void mapAt(const fs::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    void* a = ::mmap(addr_, kSize, PROT_READ, MAP_PRIVATE | (addr_ ? MAP_FIXED : 0), fd, 0);
    ::close(fd);
    ASSERT_NE(a, MAP_FAILED);
    addr_ = a;
  }

  MapsEntry ours() {
    for (const MapsEntry& m : ProcFs::maps(::getpid(), true))
      if (m.start == reinterpret_cast<uint64_t>(addr_)) return m;
    ADD_FAILURE() << "no mapping at " << addr_;
    return {};
  }

  fs::path dir_;
  void* addr_ = nullptr;
};

TEST_F(FileMappingCacheTest, unchanged_file_mapping_is_found_described_as_when_frozen) {
  mapAt(makeFile("a", 'a'));
  auto cache = FileMappingCache::of(::getpid(), ProcFs::maps(::getpid(), true));
  MapsEntry m = ours();
  const img::Vma* k = cache->find(m);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->kind(), img::Vma::FILE);
  EXPECT_EQ(k->path(), (dir_ / "a").string());
  EXPECT_EQ(k->SerializeAsString(), MemoryCollector::describe(::getpid(), m).SerializeAsString());
}

TEST_F(FileMappingCacheTest, another_file_mapped_over_it_is_not_found) {
  mapAt(makeFile("a", 'a'));
  auto cache = FileMappingCache::of(::getpid(), ProcFs::maps(::getpid(), true));
  mapAt(makeFile("b", 'b'));
  EXPECT_EQ(cache->find(ours()), nullptr);
}

TEST_F(FileMappingCacheTest, file_renamed_over_its_path_and_mapped_again_is_not_found) {
  fs::path a = makeFile("a", 'a');
  mapAt(a);
  auto cache = FileMappingCache::of(::getpid(), ProcFs::maps(::getpid(), true));
  fs::rename(makeFile("new", 'n'), a);  // same path, another inode
  mapAt(a);
  MapsEntry m = ours();
  EXPECT_EQ(m.path, a.string());
  EXPECT_EQ(cache->find(m), nullptr);
}

TEST_F(FileMappingCacheTest, mapping_that_cannot_be_described_is_left_out) {
  fs::path a = makeFile("a", 'a');
  mapAt(a);
  // The mapped name removed while another hard link remains cannot be checkpointed: described
  // (and refused) frozen.
  fs::create_hard_link(a, dir_ / "b");
  fs::remove(a);
  auto cache = FileMappingCache::of(::getpid(), ProcFs::maps(::getpid(), true));
  EXPECT_EQ(cache->find(ours()), nullptr);
  EXPECT_THROW(MemoryCollector::describe(::getpid(), ours()), std::exception);
}

TEST_F(FileMappingCacheTest, deleted_mapped_file_is_described_by_its_old_name_and_inode) {
  fs::path a = makeFile("a", 'a');
  mapAt(a);
  struct stat st {};
  ASSERT_EQ(::stat(a.c_str(), &st), 0);
  fs::remove(a);
  auto cache = FileMappingCache::of(::getpid(), ProcFs::maps(::getpid(), true));
  const img::Vma* v = cache->find(ours());
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->kind(), img::Vma::FILE);
  EXPECT_TRUE(v->deleted());
  EXPECT_EQ(v->path(), a.string());
  EXPECT_EQ(v->file().ino(), st.st_ino);
  EXPECT_FALSE(v->has_deleted_data());  // (its bytes are stored frozen)
}

}  // namespace
}  // namespace cryo
