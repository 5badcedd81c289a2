// ImageReader: opens an image, refusing with a precise message anything that is not a complete,
// intact image of a supported version; gives access to its tree and verified page runs.
#include "image/ImageReader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "image/Checksum.h"
#include "image/ImageFormat.h"

namespace fs = std::filesystem;

namespace cryo {

namespace {

const img::FileDigest& digestFor(const img::Manifest& m, std::string_view name,
                                 const fs::path& dir) {
  for (const auto& f : m.files())
    if (f.name() == name) return f;
  fail("image {}: the manifest does not list {}", dir.string(), name);
}

}  // namespace

img::Manifest ImageReader::readManifest(const fs::path& dir, uint64_t* checksum,
                                        uint32_t* formatVersion) {
  if (!fs::exists(dir)) fail("image {} does not exist", dir.string());
  if (!fs::is_directory(dir)) fail("{} is not an image directory", dir.string());
  fs::path mp = dir / std::string(image::kManifestFile);
  auto text = ProcFs::tryReadFile(mp.string());
  if (!text)
    fail("image {}: no manifest: not a cryo image, or its dump did not complete", dir.string());
  const std::string& s = *text;
  if (s.size() < sizeof image::kMagic || std::memcmp(s.data(), image::kMagic, sizeof image::kMagic))
    fail("image {}: not a cryo image (bad magic in {})", dir.string(), mp.filename().string());
  if (s.size() < image::kManifestHeader)
    fail("image {}: manifest truncated ({} bytes)", dir.string(), s.size());
  uint32_t version, len;
  std::memcpy(&version, s.data() + 8, 4);
  std::memcpy(&len, s.data() + 12, 4);
  if (version < image::kOldestFormatVersion || version > image::kFormatVersion)
    fail("image {}: format version {} is not supported (this cryo reads versions {} to {})",
         dir.string(), version, image::kOldestFormatVersion, image::kFormatVersion);
  if (s.size() < image::kManifestHeader + len + 8)
    fail("image {}: manifest truncated ({} bytes, expected {})", dir.string(), s.size(),
         image::kManifestHeader + len + 8);
  if (s.size() > image::kManifestHeader + len + 8)
    fail("image {}: manifest has {} unexpected trailing bytes", dir.string(),
         s.size() - (image::kManifestHeader + len + 8));
  uint64_t stored;
  std::memcpy(&stored, s.data() + image::kManifestHeader + len, 8);
  uint64_t actual = Checksum::of(s.data(), image::kManifestHeader + len);
  if (stored != actual)
    fail("image {}: manifest checksum mismatch (stored {:016x}, computed {:016x}): the image is "
         "corrupt",
         dir.string(), stored, actual);
  img::Manifest m;
  if (!m.ParseFromArray(s.data() + image::kManifestHeader, static_cast<int>(len)))
    fail("image {}: manifest cannot be parsed", dir.string());
  if (checksum) *checksum = Checksum::of(s.data(), s.size());
  if (formatVersion) *formatVersion = version;
  return m;
}

ImageReader::ImageReader(const fs::path& dir) : dir_(dir) {
  manifest_ = readManifest(dir, &manifestChecksum_, &formatVersion_);

  const img::FileDigest& td = digestFor(manifest_, image::kTreeFile, dir);
  fs::path tp = dir / std::string(image::kTreeFile);
  auto tree = ProcFs::tryReadFile(tp.string());
  if (!tree) fail("image {}: {} is missing", dir.string(), td.name());
  if (tree->size() != td.size())
    fail("image {}: {} is {} bytes, the manifest says {}: {}", dir.string(), td.name(),
         tree->size(), td.size(), tree->size() < td.size() ? "truncated" : "corrupt");
  if (Checksum::of(tree->data(), tree->size()) != td.xxh3())
    fail("image {}: {} checksum mismatch: the image is corrupt", dir.string(), td.name());
  if (!tree_.ParseFromString(*tree))
    fail("image {}: {} cannot be parsed", dir.string(), td.name());

  const img::FileDigest& pd = digestFor(manifest_, image::kPagesFile, dir);
  fs::path pp = dir / std::string(image::kPagesFile);
  UniqueFd fd(::open(pp.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) failErrno("image {}: cannot open {}", dir.string(), pd.name());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) failErrno("cannot stat {}", pp.string());
  if (static_cast<uint64_t>(st.st_size) != pd.size())
    fail("image {}: {} is {} bytes, the manifest says {}: {}", dir.string(), pd.name(),
         st.st_size, pd.size(),
         static_cast<uint64_t>(st.st_size) < pd.size() ? "truncated" : "corrupt");
  pagesSize_ = pd.size();
  if (pagesSize_ > 0) {
    void* p = ::mmap(nullptr, pagesSize_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED) failErrno("cannot map {}", pp.string());
    ::madvise(p, pagesSize_, MADV_SEQUENTIAL);
    pages_ = static_cast<const uint8_t*>(p);
  }
  // Every run must lie inside pages.img.
  for (const auto& proc : tree_.processes())
    for (const auto& run : proc.pages())
      if (run.kind() == img::PageRun::DATA &&
          (run.offset() + uint64_t(run.nr_pages()) * image::kPageSize > pagesSize_ ||
           run.offset() % image::kPageSize != 0))
        fail("image {}: page run at {:#x} ({} pages) lies outside {}: the image is corrupt",
             dir.string(), run.vaddr(), run.nr_pages(), pd.name());
}

ImageReader::~ImageReader() {
  if (pages_) ::munmap(const_cast<uint8_t*>(pages_), pagesSize_);
}

const uint8_t* ImageReader::pageData(const img::PageRun& run, bool verify) const {
  const uint8_t* p = pages_ + run.offset();
  uint64_t len = uint64_t(run.nr_pages()) * image::kPageSize;
  if (verify && Checksum::of(p, len) != run.xxh3())
    fail("image {}: checksum mismatch in the pages of {:#x}-{:#x}: the image is corrupt",
         dir_.string(), run.vaddr(), run.vaddr() + len);
  return p;
}

}  // namespace cryo
