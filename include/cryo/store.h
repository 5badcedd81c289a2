// cryo/store.h: the library API for a store: the checkpoints it holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cryo::api {

struct CheckpointSummary {
  std::string id;
  std::string parentId;   // "" : a full checkpoint
  std::chrono::system_clock::time_point time;
  uint64_t bytes = 0;     // on disk, this checkpoint alone
  bool complete = false;  // restorable (its whole chain is intact)
};

// Oldest first; empty for a directory that does not exist. Throws std::exception on a store
// that cannot be read.
std::vector<CheckpointSummary> listCheckpoints(const std::filesystem::path& store);

}  // namespace cryo::api
