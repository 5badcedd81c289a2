// ImageWriter: builds one image in a private temporary directory and publishes it atomically
// (fsync, then rename) so that a reader sees either the old image or the complete new one.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "image/PageWriter.h"
#include "cryo.pb.h"

namespace cryo {

class ImageWriter {
 public:
  // `dir` is where the image will appear; it must not exist, or be an empty directory, or an
  // earlier cryo image (replaced only when the new one is complete).
  explicit ImageWriter(const std::filesystem::path& dir);
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;
  // Removes the temporary directory unless commit() succeeded.
  ~ImageWriter();

  PageWriter& pages() { return *pages_; }
  const std::filesystem::path& tempDir() const { return tmp_; }
  // Writes tree.pb and the manifest, syncs everything and renames the image into place.
  // Fills the manifest's id, file digests and creation time when unset.
  void commit(const img::Tree& tree, img::Manifest& manifest);

  static std::string newImageId();
  // The oldest format version that holds everything in `tree` (see ImageFormat.h).
  static uint32_t formatVersionFor(const img::Tree& tree);

 private:
  std::filesystem::path dir_;
  std::filesystem::path tmp_;
  std::unique_ptr<PageWriter> pages_;
  bool committed_ = false;
};

}  // namespace cryo
