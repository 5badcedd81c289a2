// RestoreDriver: restores a process tree from an image: validate everything first, build the
// shells (parents fork their children once their memory is in place), run every restorer per
// process, take the file locks, set the final
// registers and let all threads run. On any failure every half-built process is killed, so
// nothing is left behind.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <vector>

#include "restore/RestoreContext.h"
#include "restore/Restorer.h"

namespace cryo {

struct RestoreResult {
  pid_t pid = 0;         // the root
  size_t processes = 0;  // in the tree, zombies included
  uint64_t totalUs = 0;
};

class RestoreDriver {
 public:
  static RestoreResult run(const std::filesystem::path& dir, const RestoreOptions& opts);

 private:
  static void finalizeThreads(RestoreContext& ctx, const img::Process& in);
  // What each restorer builds before the process's children are created from it.
  static void runBeforeChildren(RestoreContext& ctx,
                                std::vector<std::unique_ptr<Restorer>>& restorers);
  // The process's file locks, taken once every process of the tree is restored.
  static void takeLocks(RestoreContext& ctx);
  // Refuses a tree whose processes are not listed root first, parents before children.
  static void checkTree(const img::Tree& tree, const std::filesystem::path& dir);
  // Refuses --inherit-fd keys that name no file of the tree, and fds that are not open.
  static void checkInheritFds(const img::Tree& tree, const RestoreOptions& opts);
};

}  // namespace cryo
