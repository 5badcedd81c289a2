// TaskRunner: `cryo run`: starts a command, checkpoints it into a store periodically for as
// long as it lives, and exits with its status.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "node/CpuPolicy.h"
#include "store/Checkpointer.h"

namespace cryo {

struct RunOptions {
  std::filesystem::path store;
  std::chrono::microseconds every{1000000};
  size_t keep = 0;  // 0: keep all
  std::string tracker;
  std::string freezeMode;  // "stop", "precopy", or "" (precopy where the tracker allows it)
  std::chrono::microseconds maxFreeze{0};
  int freezePriority = 0;  // --freeze-priority
  bool tcpClose = false;  // --tcp-close
  const CpuPolicy* cpu = nullptr;  // applied to cryo; undone in the task
  std::vector<std::string> command;
};

class TaskRunner {
 public:
  // Returns the exit code cryo should exit with (the task's, or 128+signal).
  static int run(const RunOptions& opts);
  // "100ms", "2s", "1.5s", "500us", "1m" -> microseconds; throws on anything else, or below
  // `minUs`.
  static std::chrono::microseconds parseDuration(const std::string& text, double minUs = 1000);
};

}  // namespace cryo
