// FileIdentity: what identifies a file's version in an image (device, inode, size, mtime, mode).
#include "common/FileIdentity.h"

namespace cryo {

int64_t FileIdentity::mtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
}

img::FileId FileIdentity::of(const struct stat& st) {
  img::FileId id;
  id.set_dev(st.st_dev);
  id.set_ino(st.st_ino);
  id.set_size(static_cast<uint64_t>(st.st_size));
  id.set_mtime_ns(mtimeNs(st));
  id.set_mode(st.st_mode);
  id.set_uid(st.st_uid);
  id.set_gid(st.st_gid);
  return id;
}

}  // namespace cryo
