// cryo/task.h: the library API for a task: a command started (or a checkpoint restored) under
// periodic checkpoints into a store, run from a thread of the caller, observed (pid, state,
// checkpoints, last error) and stopped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cryo/restore.h"

namespace cryo::api {

struct TaskSpec {
  std::vector<std::string> command;          // argv; command[0] is looked up in PATH
  std::vector<std::string> env;              // "NAME=value" added to the caller's environment
  std::filesystem::path store;               // created (0700) if missing
  std::chrono::microseconds every{100000};   // checkpoint period
  std::chrono::microseconds maxFreeze{0};    // budget of one freeze (0: none)
  std::string tracker;                       // "" : the best dirty-page tracker available
  size_t keep = 0;                           // checkpoints kept (0: all)
  std::filesystem::path stdoutPath;          // the task's output (appended; "": the caller's)
  std::filesystem::path stderrPath;
  // Called from the task's thread once each checkpoint is complete in the store, with its id
  // (before --keep merges old ones). It must return at once: the next checkpoint waits for it.
  std::function<void(const std::string& id)> onCheckpoint;
};

enum class TaskState { kStarting, kRunning, kExited, kFailed, kStopped };
const char* taskStateName(TaskState s);

struct TaskStatus {
  TaskState state = TaskState::kStarting;
  pid_t pid = 0;
  int exitCode = 0;                     // once ended: the task's status, or 128+signal
  uint64_t checkpoints = 0;             // taken by this run
  uint64_t failures = 0;                // failed attempts by this run
  std::string lastCheckpointId;         // "" : none yet
  std::chrono::system_clock::time_point lastCheckpointTime;
  std::string lastError;                // the last failed checkpoint's, or why the task failed
};

class Task {
 public:
  // Starts the task's thread (which starts the command); returns at once. Check status() for
  // the pid and for a command that could not start.
  static std::unique_ptr<Task> start(const TaskSpec& spec);
  // Adopts a task brought back from a checkpoint instead of starting a command: the task's
  // thread restores `from` (so the restored root is that thread's child), then runs it under
  // periodic checkpoints into spec.store like a started one (spec.command is only its name;
  // spec.stdoutPath, stderrPath and env are not used: `from.inheritFds` gives its output). A
  // restore that fails ends the task kFailed, lastError saying why; returns at once.
  static std::unique_ptr<Task> restore(const TaskSpec& spec, const RestoreRequest& from);
  ~Task();  // stop()s the task and joins its thread
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  TaskStatus status() const;
  // Sends `signal` to the task (nothing once it has ended); the thread ends with the task.
  void signal(int sig);
  // Sends SIGTERM and waits until the task has ended (the caller asked it to: kStopped).
  void stop();
  // Waits until the task has ended.
  void wait();
  // Waits until the command has started or the checkpoint is restored (kRunning) or could not
  // be (kFailed, lastError says why); returns the status then.
  TaskStatus waitStarted();

 private:
  struct Impl;
  explicit Task(std::unique_ptr<Impl> impl);
  static std::unique_ptr<Task> launch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "100ms", "2s", "1.5s", "500us", "1m"; throws std::exception below `minUs` or on bad text.
std::chrono::microseconds parseDuration(const std::string& text, double minUs = 1000);

}  // namespace cryo::api
