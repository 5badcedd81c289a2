// ImageReader: opens an image, refusing with a precise message anything that is not a complete,
// intact image of a supported version; gives access to its tree and verified page runs.
#pragma once

#include <filesystem>
#include <string>

#include "cryo.pb.h"

namespace cryo {

class ImageReader {
 public:
  explicit ImageReader(const std::filesystem::path& dir);
  ImageReader(const ImageReader&) = delete;
  ImageReader& operator=(const ImageReader&) = delete;
  ~ImageReader();

  const img::Manifest& manifest() const { return manifest_; }
  const img::Tree& tree() const { return tree_; }
  const std::filesystem::path& dir() const { return dir_; }
  uint64_t manifestChecksum() const { return manifestChecksum_; }
  uint32_t formatVersion() const { return formatVersion_; }
  // Data of a DATA run, checksum-verified unless `verify` is false (throws naming the run if
  // it does not match).
  const uint8_t* pageData(const img::PageRun& run, bool verify = true) const;
  uint64_t pagesBytes() const { return pagesSize_; }

  // Reads and validates just the manifest file (used to check parents cheaply).
  static img::Manifest readManifest(const std::filesystem::path& dir, uint64_t* checksum,
                                    uint32_t* formatVersion = nullptr);

 private:
  std::filesystem::path dir_;
  img::Manifest manifest_;
  img::Tree tree_;
  uint64_t manifestChecksum_ = 0;
  uint32_t formatVersion_ = 0;
  const uint8_t* pages_ = nullptr;
  uint64_t pagesSize_ = 0;
};

}  // namespace cryo
