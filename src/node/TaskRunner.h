// TaskRunner: `cryo run`: starts a command (or adopts a restored child), checkpoints it into a
// store periodically for as long as it lives, and exits with its status.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "realtime/CpuPolicy.h"
#include "store/Checkpointer.h"

namespace cryo {

// What `cryo run` does once --max-failures checkpoints in a row have failed: go on (warning at
// each), kill the task and exit, or exit leaving the task running without checkpoints.
enum class OnFailure { kWarn, kStopTask, kExit };

struct RunOptions {
  std::filesystem::path store;
  std::chrono::microseconds every{1000000};
  size_t keep = 0;  // 0: keep all
  std::string tracker;
  std::string freezeMode;  // "stop", "precopy", or "" (precopy where the tracker allows it)
  std::chrono::microseconds maxFreeze{0};
  int freezePriority = 0;  // --freeze-priority
  bool tcpClose = true;  // --tcp-close (the default of run), --no-tcp-close
  bool recordView = false;  // --verify-data (see CheckpointPolicy::recordView)
  OnFailure onFailure = OnFailure::kExit;
  unsigned maxFailures = 3;  // checkpoints in a row that may fail before onFailure acts
  const CpuPolicy* cpu = nullptr;  // applied to cryo; undone in the task
  std::vector<std::string> command;
  // Instead of starting `command`: called from the running thread, returns the pid of a task
  // that is already a child of that thread (a restored checkpoint), run from then on like a
  // started one. `command` then only names it in messages.
  std::function<pid_t()> adopt;

  // For a caller that runs tasks from a thread of a larger process (cryod, through the library
  // API); `cryo run` leaves them as they are.
  // SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to cryo are passed on to the task.
  bool forwardSignals = true;
  // The task's stdout and stderr (dup2'd in the child; -1: cryo's own).
  int stdoutFd = -1;
  int stderrFd = -1;
  // The task gets no fd of cryo's but 0, 1 and 2 (a daemon's sockets and pipes are not the
  // task's); `cryo run` passes on what it was given.
  bool closeOtherFds = false;
  // Variables added to (or replacing in) the task's environment, "NAME=value".
  std::vector<std::string> env;
  // Called from the running loop: the task started; a checkpoint was taken; one failed.
  std::function<void(pid_t)> onStarted;
  std::function<void(const CheckpointInfo&)> onCheckpoint;
  std::function<void(const std::string&)> onCheckpointFailed;
};

class TaskRunner {
 public:
  // Returns the exit code cryo should exit with (the task's, or 128+signal).
  static int run(const RunOptions& opts);
  // "100ms", "2s", "1.5s", "500us", "1m" -> microseconds; throws on anything else, or below
  // `minUs`.
  static std::chrono::microseconds parseDuration(const std::string& text, double minUs = 1000);
  static OnFailure parseOnFailure(const std::string& text);
};

}  // namespace cryo
