// DeletedFiles: the bytes of regular files deleted while open or mapped, read through a
// description of cryo's own (the task's offset and flags untouched, a write-only fd read all
// the same) and stored once per inode of the dumped tree.
#pragma once

#include <optional>
#include <string>

#include "cryo.pb.h"

namespace cryo {

class DumpContext;

class DeletedFiles {
 public:
  // The deleted file that /proc/PID/`procLink` (fd/N or map_files/S-E) names, with identity
  // `id`: its bytes, stored, unless an earlier fd or mapping of the tree stored them (then
  // nothing). `what` names it in errors.
  static std::optional<img::DeletedFileData> store(DumpContext& ctx, const std::string& procLink,
                                                   const img::FileId& id,
                                                   const std::string& what);
  // " (deleted)" taken off a path /proc shows.
  static std::string liveName(const std::string& shown);
  static bool shownDeleted(const std::string& shown);
};

}  // namespace cryo
