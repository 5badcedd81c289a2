// ImageChain: an image and the ancestors its pages come from (incremental images name their
// parent by id and manifest checksum); refuses broken chains and resolves, for each page of the
// newest image, which image holds its data.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "image/ImageReader.h"

namespace cryo {

struct PageSource {
  uint64_t vaddr = 0;
  uint64_t nrPages = 0;
  const uint8_t* data = nullptr;  // checksum-verified
};

class ImageChain {
 public:
  explicit ImageChain(const std::filesystem::path& newest);
  ImageChain(const ImageChain&) = delete;
  ImageChain& operator=(const ImageChain&) = delete;

  const ImageReader& newest() const { return *images_.front(); }
  size_t length() const { return images_.size(); }
  const ImageReader& at(size_t i) const { return *images_[i]; }  // 0 = newest

  // The page data that rebuilds process `proc` (from the newest image): for each page inside
  // proc's mappings, the newest image that stored it. Pages no image stored keep what a fresh
  // mapping holds (zeros, or the mapped file's bytes).
  std::vector<PageSource> pageSources(const img::Process& proc) const;

  // The parent directory named by `ref`, relative to `child`.
  static std::filesystem::path parentPath(const std::filesystem::path& child,
                                          const img::ParentRef& ref);

 private:
  const uint8_t* verified(const ImageReader& image, const img::PageRun& run) const;
  std::vector<std::unique_ptr<ImageReader>> images_;
  mutable std::set<const img::PageRun*> verified_;
};

}  // namespace cryo
