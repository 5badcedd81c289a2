// DeletedFiles: the bytes of regular files deleted while open or mapped, read through a
// description of cryo's own (the task's offset and flags untouched, a write-only fd read all
// the same) and stored once per inode of the dumped tree.
#include "dump/DeletedFiles.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "dump/DumpContext.h"
#include "image/StoredFile.h"

namespace cryo {

namespace {

const std::string kDeleted = " (deleted)";

}  // namespace

bool DeletedFiles::shownDeleted(const std::string& shown) {
  return shown.size() > kDeleted.size() &&
         shown.compare(shown.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0;
}

std::string DeletedFiles::liveName(const std::string& shown) {
  return shownDeleted(shown) ? shown.substr(0, shown.size() - kDeleted.size()) : shown;
}

std::optional<img::DeletedFileData> DeletedFiles::store(DumpContext& ctx,
                                                        const std::string& procLink,
                                                        const img::FileId& id,
                                                        const std::string& what) {
  if (!ctx.fdIndex().claimOnce(fmt::format("deleted:{}:{}", id.dev(), id.ino())))
    return std::nullopt;
  // A description of its own, read-only: opening the /proc link reopens the very inode.
  std::string link = ProcFs::path(ctx.pid(), procLink);
  UniqueFd fd(::open(link.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) failErrno("{}: cannot open {} to read the deleted file", what, link);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) failErrno("{}: cannot stat {}", what, link);
  if (st.st_dev != id.dev() || st.st_ino != id.ino())
    fail("{}: {} opened another file than the one the task has: cannot checkpoint it", what,
         link);
  return StoredFile::store(fd.get(), ctx.pages(), what);
}

}  // namespace cryo
