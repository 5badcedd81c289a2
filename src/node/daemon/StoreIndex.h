// StoreIndex: a cheap listing of a store's checkpoints from their manifests alone (no tree or
// page checksums, unlike CheckpointStore::list), for replication, which lists a store at every
// checkpoint: each checkpoint directory is renamed into place complete, and a standby checks
// every image it receives in full.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cryo::daemon {

struct IndexEntry {
  std::string id;                 // "000007"
  std::filesystem::path path;
  std::string imageId;
  std::string parentId;           // "" : full
  std::string parentImageId;
  std::chrono::system_clock::time_point taken;
};

class StoreIndex {
 public:
  // Oldest first; checkpoints whose manifest cannot be read are left out. Empty for a store
  // that does not exist.
  static std::vector<IndexEntry> list(const std::filesystem::path& store);
  static std::optional<IndexEntry> find(const std::filesystem::path& store, const std::string& id);
};

}  // namespace cryo::daemon
