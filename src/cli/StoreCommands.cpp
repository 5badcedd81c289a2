// StoreCommands: the store-facing parts of the CLI: `cryo ls`, `cryo stats` and choosing what
// `cryo restore --store` restores.
#include "cli/StoreCommands.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "store/CheckpointStore.h"
#include "store/RunStatus.h"

namespace cryo {

namespace {
// A store whose `cryo run` stopped taking checkpoints says so on stderr, whatever is asked.
std::optional<RunFailures> warnIfBehind(const std::filesystem::path& dir) {
  std::optional<RunFailures> f = RunStatus::read(dir);
  if (f) spdlog::warn("store {}: {}", dir.string(), RunStatus::describe(*f));
  return f;
}
}  // namespace

std::string StoreCommands::list(const std::filesystem::path& dir, bool json) {
  CheckpointStore store(dir, false);
  auto entries = store.list();
  warnIfBehind(dir);
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
      j["mode"] = e.manifest.mode().empty() ? "stop" : e.manifest.mode();
      j["precopy_rounds"] = e.manifest.precopy_rounds();
      j["precopy_pages"] = e.manifest.precopy_pages();
      j["final_pages"] = e.manifest.final_pages();
      j["max_freeze_us"] = e.manifest.max_freeze_us();
      j["max_stop_us"] = e.manifest.max_stop_us();
      j["stops"] = e.manifest.stops();
      j["freeze_priority"] = e.manifest.freeze_priority();
      j["over_budget"] = e.manifest.over_budget();
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

namespace {

// Nearest rank: the smallest value such that at least p % of the values are at most it.
uint64_t percentile(std::vector<uint64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

nlohmann::json summary(const std::vector<uint64_t>& v) {
  nlohmann::json j;
  j["count"] = v.size();
  j["p50"] = percentile(v, 50);
  j["p99"] = percentile(v, 99);
  j["max"] = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  return j;
}

}  // namespace

std::string StoreCommands::stats(const std::filesystem::path& dir, bool json) {
  CheckpointStore store(dir, false);
  std::vector<uint64_t> all, inc;
  size_t over = 0;
  for (const auto& e : store.list()) {
    all.push_back(e.manifest.freeze_us());
    if (!e.parentId.empty()) inc.push_back(e.manifest.freeze_us());
    if (e.manifest.over_budget()) ++over;
  }
  nlohmann::json j;
  j["checkpoints"] = all.size();
  j["freeze_us"] = summary(all);
  j["incremental_freeze_us"] = summary(inc);
  j["over_budget"] = over;
  std::optional<RunFailures> f = warnIfBehind(dir);
  j["failed_since_newest"] = f ? f->sinceGood : 0;
  j["failed_total"] = f ? f->total : 0;
  j["last_error"] = f ? nlohmann::json(f->lastError) : nlohmann::json(nullptr);
  if (json) return j.dump(2) + "\n";
  auto line = [](const char* what, const nlohmann::json& s) {
    return fmt::format("{:<12} {:>6} checkpoints  freeze p50 {} us  p99 {} us  max {} us\n", what,
                       s["count"].get<size_t>(), s["p50"].get<uint64_t>(),
                       s["p99"].get<uint64_t>(), s["max"].get<uint64_t>());
  };
  return line("all", j["freeze_us"]) + line("incremental", j["incremental_freeze_us"]) +
         fmt::format("over the --max-freeze budget: {}\n", over) +
         fmt::format("failed attempts since the newest checkpoint: {}\n", f ? f->sinceGood : 0);
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
  warnIfBehind(dir);
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
