// RestoreDriver: restores a process from an image: validate everything first, build the shell,
// run every restorer, set the final registers and let all threads run. On any failure the
// half-built process is killed, so nothing is left behind.
#pragma once

#include <sys/types.h>

#include <filesystem>

#include "restore/RestoreContext.h"

namespace cryo {

struct RestoreResult {
  pid_t pid = 0;
  uint64_t totalUs = 0;
};

class RestoreDriver {
 public:
  static RestoreResult run(const std::filesystem::path& dir, const RestoreOptions& opts);

 private:
  static void finalizeThreads(RestoreContext& ctx, const img::Process& in);
};

}  // namespace cryo
