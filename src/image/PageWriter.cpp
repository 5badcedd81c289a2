// PageWriter: appends page runs to an image's pages.img and returns their index entries.
#include "image/PageWriter.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/Error.h"
#include "image/ImageFormat.h"

namespace cryo {

PageWriter::PageWriter(const std::string& path) : path_(path) {
  fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd_) failErrno("cannot create {}", path);
}

img::PageRun PageWriter::append(uint64_t vaddr, const void* data, uint64_t nrPages) {
  size_t len = nrPages * image::kPageSize;
  img::PageRun run;
  run.set_vaddr(vaddr);
  run.set_nr_pages(static_cast<uint32_t>(nrPages));
  run.set_offset(offset_);
  run.set_kind(img::PageRun::DATA);
  run.set_xxh3(Checksum::of(data, len));
  const char* p = static_cast<const char*>(data);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::write(fd_.get(), p + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failErrno("cannot write {} bytes to {}", len - done, path_);
    done += static_cast<size_t>(n);
  }
  uint64_t runSum = run.xxh3();
  whole_.update(&runSum, sizeof runSum);
  offset_ += len;
  return run;
}

img::PageRun PageWriter::zeroRun(uint64_t vaddr, uint64_t nrPages) {
  img::PageRun run;
  run.set_vaddr(vaddr);
  run.set_nr_pages(static_cast<uint32_t>(nrPages));
  run.set_kind(img::PageRun::ZERO);
  return run;
}

void PageWriter::sync() {
  if (::fsync(fd_.get()) != 0) failErrno("cannot fsync {}", path_);
}

}  // namespace cryo
