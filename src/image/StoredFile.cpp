// StoredFile: the bytes of a file kept in an image's pages.img (DeletedFileData): stored where
// the file has data, in bounded chunks (its holes are left out), and written back the same way.
#include "image/StoredFile.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/Error.h"
#include "image/ImageFormat.h"
#include "image/ImageReader.h"
#include "image/PageWriter.h"

namespace cryo {

namespace {

constexpr uint64_t kPage = image::kPageSize;
constexpr uint64_t kChunk = 1ull << 20;  // bytes read and stored at a time

uint64_t pageDown(uint64_t v) { return v & ~(kPage - 1); }
uint64_t pageUp(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

// The next part [start, end) of the file at or after `off` that holds data, page-aligned; an
// empty range when there is none. Without SEEK_DATA, the whole rest is data.
std::pair<uint64_t, uint64_t> nextData(int fd, uint64_t off, uint64_t size,
                                       const std::string& what) {
  off_t d = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
  if (d < 0 && errno == ENXIO) return {size, size};
  if (d < 0 && errno == EINVAL) return {off, pageUp(size)};
  if (d < 0) failErrno("{}: SEEK_DATA at {}", what, off);
  off_t h = ::lseek(fd, d, SEEK_HOLE);
  if (h < 0) failErrno("{}: SEEK_HOLE at {}", what, d);
  uint64_t start = pageDown(static_cast<uint64_t>(d));
  uint64_t end = std::min(pageUp(static_cast<uint64_t>(h)), pageUp(size));
  return {std::max(start, off), end};
}

// Reads [pos, pos + len) into buf; what lies beyond the end of the file reads as zeros.
void readPart(int fd, uint64_t pos, char* buf, uint64_t len, const std::string& what) {
  std::fill(buf, buf + len, 0);
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, buf + done, len - done, static_cast<off_t>(pos + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failErrno("{}: cannot read {} bytes at {}", what, len - done, pos + done);
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
}

}  // namespace

img::DeletedFileData StoredFile::store(int fd, PageWriter& out, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) failErrno("{}: cannot stat it", what);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  img::DeletedFileData data;
  data.set_size(size);
  std::vector<char> buf(kChunk);
  uint64_t off = 0;
  while (off < size) {
    auto [start, end] = nextData(fd, off, size, what);
    if (start >= end) break;
    for (uint64_t pos = start; pos < end; pos += kChunk) {
      uint64_t len = std::min(kChunk, end - pos);
      readPart(fd, pos, buf.data(), len, what);
      *data.add_runs() = out.append(pos, buf.data(), len / kPage);
    }
    off = end;
  }
  return data;
}

void StoredFile::check(const ImageReader& image, const img::DeletedFileData& data,
                       const std::string& what) {
  uint64_t at = 0;
  for (const img::PageRun& run : data.runs()) {
    uint64_t len = uint64_t(run.nr_pages()) * kPage;
    if (run.kind() != img::PageRun::DATA || run.vaddr() % kPage != 0 || run.vaddr() < at ||
        run.vaddr() >= pageUp(data.size()) || run.offset() + len > image.pagesBytes() ||
        run.offset() % kPage != 0)
      fail("{}: stored run at offset {} ({} pages) lies outside the file or the image: the image "
           "is corrupt",
           what, run.vaddr(), run.nr_pages());
    at = run.vaddr() + len;
  }
}

void StoredFile::writeTo(const ImageReader& image, const img::DeletedFileData& data, int fd,
                         const std::string& what) {
  check(image, data, what);
  if (::ftruncate(fd, static_cast<off_t>(data.size())) != 0)
    failErrno("{}: cannot size it to {} bytes", what, data.size());
  for (const img::PageRun& run : data.runs()) {
    const char* p = reinterpret_cast<const char*>(image.pageData(run));
    uint64_t len = std::min<uint64_t>(uint64_t(run.nr_pages()) * kPage, data.size() - run.vaddr());
    uint64_t done = 0;
    while (done < len) {
      ssize_t n = ::pwrite(fd, p + done, len - done, static_cast<off_t>(run.vaddr() + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) failErrno("{}: cannot write {} bytes at {}", what, len - done, run.vaddr() + done);
      done += static_cast<uint64_t>(n);
    }
  }
}

void StoredFile::copyAll(const ImageReader& from, img::Process& proc, PageWriter& out) {
  auto copy = [&](img::DeletedFileData& data) {
    check(from, data, fmt::format("pid {}: a deleted file", proc.pid()));
    for (img::PageRun& run : *data.mutable_runs())
      run = out.append(run.vaddr(), from.pageData(run), run.nr_pages());
  };
  for (img::FileDescription& d : *proc.mutable_files())
    if (d.has_deleted_data()) copy(*d.mutable_deleted_data());
  for (img::Vma& v : *proc.mutable_vmas())
    if (v.has_deleted_data()) copy(*v.mutable_deleted_data());
}

}  // namespace cryo
