// PageWriter: appends page runs to an image's pages.img and returns their index entries.
#pragma once

#include <cstdint>
#include <string>

#include "common/UniqueFd.h"
#include "image/Checksum.h"
#include "cryo.pb.h"

namespace cryo {

class PageWriter {
 public:
  explicit PageWriter(const std::string& path);  // creates the file, mode 0600
  // Stores nrPages pages starting at vaddr; data holds nrPages * 4096 bytes.
  img::PageRun append(uint64_t vaddr, const void* data, uint64_t nrPages);
  // Records a run of zero pages (nothing is stored).
  static img::PageRun zeroRun(uint64_t vaddr, uint64_t nrPages);
  void sync();  // fsync
  uint64_t bytes() const { return offset_; }
  // Digest of the file: XXH3 over the sequence of its runs' checksums.
  uint64_t fileChecksum() const { return whole_.digest(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
  uint64_t offset_ = 0;
  Checksum whole_;
};

}  // namespace cryo
