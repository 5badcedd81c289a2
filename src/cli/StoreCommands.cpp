// StoreCommands: the store-facing parts of the CLI: `cryo ls` and choosing what
// `cryo restore --store` restores.
#include "cli/StoreCommands.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

#include "common/Error.h"
#include "store/CheckpointStore.h"

namespace cryo {

std::string StoreCommands::list(const std::filesystem::path& dir, bool json) {
  CheckpointStore store(dir, false);
  auto entries = store.list();
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : entries) {
      nlohmann::json j;
      j["id"] = e.id;
      j["parent"] = e.parentId.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.parentId);
      j["time"] = e.manifest.created_unix_ns() / 1000000000.0;
      j["pages"] = e.manifest.pages_stored();
      j["bytes"] = e.bytes;
      j["freeze_us"] = e.manifest.freeze_us();
      j["copy_us"] = e.manifest.copy_us();
      j["dump_us"] = e.manifest.dump_us();
      j["pid"] = e.manifest.root_pid();
      j["tracker"] = e.manifest.tracker();
      j["complete"] = e.complete;
      if (!e.complete) j["problem"] = e.problem;
      arr.push_back(j);
    }
    return arr.dump(2) + "\n";
  }
  std::ostringstream o;
  o << fmt::format("{:<8} {:<8} {:>8} {:>10} {:>12} {:>10}  {}\n", "ID", "PARENT", "PID", "PAGES",
                   "BYTES", "FREEZE_US", "STATE");
  for (const auto& e : entries)
    o << fmt::format("{:<8} {:<8} {:>8} {:>10} {:>12} {:>10}  {}\n", e.id,
                     e.parentId.empty() ? "-" : e.parentId, e.manifest.root_pid(),
                     e.manifest.pages_stored(), e.bytes, e.manifest.freeze_us(),
                     e.complete ? "complete" : "BROKEN: " + e.problem);
  return o.str();
}

std::filesystem::path StoreCommands::pickForRestore(const std::filesystem::path& dir,
                                                    const std::string& id) {
  CheckpointStore store(dir, false);
  if (!id.empty()) {
    auto e = store.find(id);
    if (!e) fail("store {} has no checkpoint {}", dir.string(), id);
    if (!e->complete) fail("checkpoint {} of store {} cannot be restored: {}", id, dir.string(),
                           e->problem);
    return e->path;
  }
  auto all = store.list();
  if (all.empty()) fail("store {} holds no checkpoint", dir.string());
  // Checkpoints are published only when complete, so a broken latest one means damage: refuse
  // rather than silently going back further; name the newest one that would restore.
  const StoreEntry& latest = all.back();
  if (latest.complete) return latest.path;
  std::string older;
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    if (it->complete) {
      older = fmt::format("; the newest restorable checkpoint is {} (use --id {})", it->id, it->id);
      break;
    }
  fail("store {}: the latest checkpoint {} cannot be restored: {}{}", dir.string(), latest.id,
       latest.problem, older);
}

}  // namespace cryo
