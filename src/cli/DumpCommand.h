// DumpCommand: `cryo dump`: picks the freeze mode (pre-copy where the kernel allows it, stop
// and copy otherwise or when asked) and takes the one checkpoint into an image directory.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "dump/Dumper.h"
#include "store/Checkpointer.h"

namespace cryo {

struct DumpRequest {
  pid_t pid = 0;
  std::filesystem::path images;
  std::filesystem::path parent;  // incremental against this image (stop mode)
  bool leaveRunning = false;
  std::string freezeMode;        // "stop", "precopy", or "" (precopy where possible)
  CheckpointPolicy policy;       // budget, priority, --tcp-close
};

class DumpCommand {
 public:
  static DumpResult run(const DumpRequest& req);
  // The mode `req` asks for or, without --freeze-mode, the best the kernel offers. Throws
  // for a combination that cannot be followed (pre-copy with --parent, or without uffd-wp).
  static FreezeMode pickMode(const DumpRequest& req);
};

}  // namespace cryo
