// StoredFile: the bytes of a file kept in an image's pages.img (DeletedFileData): stored where
// the file has data, in bounded chunks (its holes are left out), and written back the same way.
#pragma once

#include <cstdint>
#include <string>

#include "cryo.pb.h"

namespace cryo {

class ImageReader;
class PageWriter;

class StoredFile {
 public:
  // Stores the regular file open as `fd` (a description of cryo's own: its offset moves) up to
  // its size now, a bounded chunk at a time. `what` names the file in errors.
  static img::DeletedFileData store(int fd, PageWriter& out, const std::string& what);
  // Refuses, naming `what`, runs that lie outside the image's pages.img, overlap or go past
  // the size.
  static void check(const ImageReader& image, const img::DeletedFileData& data,
                    const std::string& what);
  // Writes the stored bytes into `fd` (sized to data.size(); holes stay holes), each run
  // checksum-verified.
  static void writeTo(const ImageReader& image, const img::DeletedFileData& data, int fd,
                      const std::string& what);
  // Stores the files kept in `from` for process `proc` again in `out` (an image rewritten
  // with another pages.img): every DeletedFileData of its descriptions and mappings.
  static void copyAll(const ImageReader& from, img::Process& proc, PageWriter& out);
};

}  // namespace cryo
