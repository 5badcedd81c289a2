// CheckpointStore: a directory of numbered checkpoints (each an image, full or incremental);
// lists them, finds the latest restorable one, names the next, and merges old ones away
// (--keep) without ever leaving the store without a restorable latest checkpoint.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cryo.pb.h"

namespace cryo {

struct StoreEntry {
  std::string id;                  // directory name, e.g. "000007"
  std::filesystem::path path;
  bool complete = false;           // manifest valid and the whole parent chain intact
  std::string problem;             // why not complete
  img::Manifest manifest;          // valid when the manifest could be read
  uint64_t bytes = 0;              // size on disk of this checkpoint alone
  std::string parentId;            // store id of the parent, "" for a full checkpoint
};

class CheckpointStore {
 public:
  // Opens (creating with mode 0700 when `create`) a store directory.
  CheckpointStore(const std::filesystem::path& dir, bool create);

  const std::filesystem::path& dir() const { return dir_; }
  std::vector<StoreEntry> list() const;                    // oldest first
  std::optional<StoreEntry> latestComplete() const;
  std::optional<StoreEntry> find(const std::string& id) const;
  std::filesystem::path nextPath() const;                  // where the next checkpoint goes
  // Merges the oldest checkpoints into their children until at most `keep` remain.
  void compact(size_t keep);
  // Removes leftovers of checkpoints that never completed (temporary directories).
  void removeIncomplete();

 private:
  void mergeIntoChild(const StoreEntry& parent, const StoreEntry& child);
  std::filesystem::path dir_;
};

}  // namespace cryo
