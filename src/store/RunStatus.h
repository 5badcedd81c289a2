// RunStatus: what a store says about the checkpoints `cryo run` failed to take: how many failed
// since the newest checkpoint it holds, when the last one failed and why. A store that stopped
// following its task says so (`ls`, `stats`, `restore --store`) instead of looking current.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace cryo {

struct RunFailures {
  uint64_t sinceGood = 0;       // failed attempts since the newest checkpoint (consecutive)
  uint64_t total = 0;           // failed attempts since `cryo run` started
  double lastFailureTime = 0;   // unix seconds
  double lastGoodTime = 0;      // unix seconds of the newest checkpoint (0: none yet)
  std::string lastGoodId;       // "" when the run has taken none
  std::string lastError;
};

class RunStatus {
 public:
  explicit RunStatus(std::filesystem::path store);
  // Records a checkpoint taken: the file goes (removed when failures since the last good one,
  // or an earlier run, left one).
  void succeeded(const std::string& id);
  // Records a failed attempt (written at once, atomically).
  const RunFailures& failed(const std::string& error);
  const RunFailures& failures() const { return f_; }

  // What a store's status file says; nothing when the last attempt succeeded (or no run wrote
  // one). Throws on a file that is not one of ours.
  static std::optional<RunFailures> read(const std::filesystem::path& store);
  // One line for a user: N attempts failed since checkpoint X, taken S seconds before the last
  // failed attempt, and the error.
  static std::string describe(const RunFailures& f);
  static constexpr const char* kFile = "run-status.json";

 private:
  void write() const;
  void syncDir() const;
  std::filesystem::path store_;
  bool cleared_ = false;  // what an earlier run wrote is gone
  RunFailures f_;
};

}  // namespace cryo
