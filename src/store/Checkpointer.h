// Checkpointer: takes the checkpoints of one running task into a store: a full one first, then
// incremental ones holding only the pages written since the previous checkpoint (found by a
// dirty-page tracker that stays armed between checkpoints).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "dump/Dumper.h"
#include "store/CheckpointStore.h"

namespace cryo {

class DirtyTracker;

struct CheckpointInfo {
  std::string id;
  bool incremental = false;
  DumpResult dump;
};

class Checkpointer {
 public:
  // `trackerName`: a backend name, or "" for the best one available; "none": every
  // checkpoint is full.
  Checkpointer(CheckpointStore& store, pid_t pid, const std::string& trackerName);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  CheckpointInfo checkpoint();
  // One checkpoint by a cryo that will not stay around: incremental against the store's latest
  // checkpoint of the same task (changed pages found by comparing memory with it), else full.
  static CheckpointInfo once(CheckpointStore& store, pid_t pid);
  const std::string& trackerName() const { return trackerName_; }

 private:
  class Selection;
  CheckpointStore& store_;
  pid_t pid_;
  std::string trackerName_;
  std::unique_ptr<DirtyTracker> tracker_;
  bool armed_ = false;         // the tracker holds the writes since `parent_`
  std::filesystem::path parent_;
  std::string parentImageId_;
};

}  // namespace cryo
