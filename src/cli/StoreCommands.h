// StoreCommands: the store-facing parts of the CLI: `cryo ls`, `cryo stats` and choosing what
// `cryo restore --store` restores.
#pragma once

#include <filesystem>
#include <string>

namespace cryo {

class StoreCommands {
 public:
  // Text (or JSON array) describing every checkpoint of the store, oldest first.
  static std::string list(const std::filesystem::path& store, bool json);
  // Freeze-time percentiles (nearest rank) over the store's checkpoints, all of them and the
  // incremental ones, and how many overran their --max-freeze budget.
  static std::string stats(const std::filesystem::path& store, bool json);
  // The checkpoint to restore: `id`, or the latest complete one; refuses broken ones clearly.
  static std::filesystem::path pickForRestore(const std::filesystem::path& store,
                                              const std::string& id);
};

}  // namespace cryo
