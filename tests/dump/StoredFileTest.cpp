// StoredFileTest: a deleted file's bytes go into an image's pages.img where the file holds data
// only (an 70 MiB sparse file takes a few pages), come back byte for byte with its holes still
// holes, survive an image rewritten with another pages.img (a store merge), and runs that lie
// outside the image are refused as corruption.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/UniqueFd.h"
#include "image/ImageReader.h"
#include "image/ImageWriter.h"
#include "image/StoredFile.h"

namespace cryo {
namespace {

namespace fs = std::filesystem;
constexpr off_t kMiB = 1 << 20;
constexpr off_t kSize = 70 * kMiB + 77;

class StoredFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cryo-sft-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    src_.reset(::open((dir_ / "sparse").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_TRUE(src_);
    put(0, std::string(100, 'a'));
    put(33 * kMiB + 5, std::string(8000, 'b'));
    ASSERT_EQ(::ftruncate(src_.get(), kSize), 0);
    put(kSize - 3, "end");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void put(off_t at, const std::string& s) {
    ASSERT_EQ(::pwrite(src_.get(), s.data(), s.size(), at), static_cast<ssize_t>(s.size()));
  }

  // Writes image `name`: one process whose one description, a deleted file, holds the source's
  // bytes (`edit` may change it first); returns that process.
  img::Process writeImage(const std::string& name,
                          const std::function<void(img::Process&)>& edit = {}) {
    ImageWriter w(dir_ / name);
    img::Process proc;
    img::FileDescription* d = proc.add_files();
    d->set_kind(img::FileDescription::DELETED_FILE);
    *d->mutable_deleted_data() = StoredFile::store(src_.get(), w.pages(), "sparse");
    if (edit) edit(proc);
    commit(w, proc);
    return proc;
  }

  static void commit(ImageWriter& w, const img::Process& proc) {
    img::Tree tree;
    *tree.add_processes() = proc;
    img::Manifest m;
    w.commit(tree, m);
  }

  // The file written back from image `name`, compared with the source, holes and all.
  void expectWrittenBackSame(const std::string& name) {
    ImageReader r(dir_ / name);
    UniqueFd out(::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    ASSERT_TRUE(out);
    StoredFile::writeTo(r, r.tree().processes(0).files(0).deleted_data(), out.get(), "back");
    struct stat a {}, b {};
    ASSERT_EQ(::fstat(src_.get(), &a), 0);
    ASSERT_EQ(::fstat(out.get(), &b), 0);
    EXPECT_EQ(b.st_size, kSize);
    EXPECT_LT(b.st_blocks * 512, 4 * kMiB) << "the holes were filled";
    std::vector<char> x(kMiB), y(kMiB);
    for (off_t at = 0; at < kSize; at += kMiB) {
      ssize_t n = ::pread(src_.get(), x.data(), kMiB, at);
      ASSERT_GT(n, 0);
      ASSERT_EQ(::pread(out.get(), y.data(), kMiB, at), n);
      ASSERT_EQ(std::string(x.data(), n), std::string(y.data(), n)) << "differs at " << at;
    }
  }

  fs::path dir_;
  UniqueFd src_;
};

TEST_F(StoredFileTest, sparse_file_is_stored_where_it_has_data_and_comes_back_with_its_holes) {
  img::Process proc = writeImage("img");
  const img::DeletedFileData& data = proc.files(0).deleted_data();
  EXPECT_EQ(data.size(), static_cast<uint64_t>(kSize));
  EXPECT_LT(fs::file_size(dir_ / "img" / "pages.img"), static_cast<uint64_t>(kMiB));
  expectWrittenBackSame("img");
}

TEST_F(StoredFileTest, bytes_survive_an_image_rewritten_with_another_pages_file) {
  writeImage("img");
  {
    ImageReader r(dir_ / "img");
    img::Process proc = r.tree().processes(0);
    ImageWriter w(dir_ / "merged");
    std::string pad(4096, 'p');  // (the runs land elsewhere in the new pages.img)
    w.pages().append(0, pad.data(), 1);
    StoredFile::copyAll(r, proc, w.pages());
    commit(w, proc);
  }
  expectWrittenBackSame("merged");
}

TEST_F(StoredFileTest, run_outside_the_pages_file_is_refused_as_corruption) {
  writeImage("img", [](img::Process& proc) {
    proc.mutable_files(0)->mutable_deleted_data()->mutable_runs(0)->set_offset(1ull << 40);
  });
  ImageReader r(dir_ / "img");
  UniqueFd out(::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  ASSERT_TRUE(out);
  try {
    StoredFile::writeTo(r, r.tree().processes(0).files(0).deleted_data(), out.get(), "back");
    ADD_FAILURE() << "a run outside pages.img was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("the image is corrupt"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cryo
