// Checkpointer: takes the checkpoints of one running task into a store: a full one first, then
// incremental ones holding only the pages written since the previous checkpoint (found by a
// dirty-page tracker that stays armed between checkpoints).
#include "store/Checkpointer.h"

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "dump/PageSelection.h"
#include "image/ImageReader.h"
#include "track/DirtyTracker.h"

namespace cryo {

Checkpointer::Checkpointer(CheckpointStore& store, pid_t pid, const std::string& trackerName)
    : store_(store), pid_(pid), trackerName_(trackerName) {}

Checkpointer::~Checkpointer() = default;

CheckpointInfo Checkpointer::checkpoint() {
  CheckpointInfo info;
  std::filesystem::path dir = store_.nextPath();
  DumpOptions o;
  o.leaveRunning = true;
  info.dump = Dumper::run(pid_, dir, o);
  info.id = dir.filename().string();
  return info;
}

}  // namespace cryo
