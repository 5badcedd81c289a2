// RestoreDriver: restores a process tree from an image: validate everything first, build the
// shells (parents fork their children), run every restorer per process, set the final
// registers and let all threads run. On any failure every half-built process is killed, so
// nothing is left behind.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>

#include "restore/RestoreContext.h"

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
  // Refuses a tree whose processes are not listed root first, parents before children.
  static void checkTree(const img::Tree& tree, const std::filesystem::path& dir);
  // Refuses --inherit-fd keys that name no file of the tree, and fds that are not open.
  static void checkInheritFds(const img::Tree& tree, const RestoreOptions& opts);
};

}  // namespace cryo
