// DeletedFileMaker: files deleted while open or mapped, made again at restore once per inode of
// the tree (cryo keeps each in TreeFiles): in their directory, under their old name while cryo
// opens them, with their owner, mode and bytes (or a FIFO's), then unlinked, so that /proc
// shows them as before ("NAME (deleted)") and the task's fds and mappings of one deleted file
// share one inode again.
#pragma once

#include <string>

#include "common/UniqueFd.h"
#include "cryo.pb.h"

namespace cryo {

class RestoreContext;

class DeletedFileMaker {
 public:
  // Refuses, naming `who`, a deleted file whose directory is gone or whose bytes the image
  // does not hold.
  static void validate(RestoreContext& ctx, const img::FileId& id, const std::string& path,
                       const std::string& who);
  // Opens in the process the deleted regular file `id` that was at `path` (made on first use)
  // with open flags `flags`; returns its fd there (above highFd()). `legacy`: the bytes an
  // image before format version 5 holds in the description.
  static int openFile(RestoreContext& ctx, const img::FileId& id, const std::string& path,
                      int flags, const std::string& who, const std::string* legacy = nullptr);
  // Opens in the process the deleted FIFO of description `d` (made on first use) with
  // `flags`, and puts back the bytes `d` holds (pipe_data); returns its fd there.
  static int openFifo(RestoreContext& ctx, const img::FileDescription& d, int flags,
                      const std::string& who);

 private:
  static std::string key(const img::FileId& id);
  // The stored bytes of `id` in the tree, or null.
  static const img::DeletedFileData* findData(const img::Tree& tree, const img::FileId& id);
  static UniqueFd makeFile(RestoreContext& ctx, const img::FileId& id, const std::string& path,
                           const std::string& who, const std::string* legacy);
  static UniqueFd makeFifo(const img::FileDescription& d, const std::string& who);
  // Gives `fd` (a file of cryo's) the owner and mode of `id`.
  static void setOwnerAndMode(int fd, const img::FileId& id, const std::string& who);
  // A new open file description, in the process, of cryo's file `cryoFd`, with `flags`.
  static int reopenInProcess(RestoreContext& ctx, int cryoFd, int flags, const std::string& who);
};

}  // namespace cryo
