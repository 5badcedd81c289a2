// FileIdentity: what identifies a file's version in an image (device, inode, size, mtime, mode).
#pragma once

#include <sys/stat.h>

#include "cryo.pb.h"

namespace cryo {

class FileIdentity {
 public:
  static img::FileId of(const struct stat& st);
  static int64_t mtimeNs(const struct stat& st);
};

}  // namespace cryo
