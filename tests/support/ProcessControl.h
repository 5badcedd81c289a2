// ProcessControl: starting target programs with redirected streams, waiting for them with a deadline, and looking at processes through /proc.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ExitStatus.h"

namespace cryo::test {

class ProcessControl {
 public:
  // fork+exec argv (argv[0] is a path) with stdin from /dev/null and stdout and stderr both on
  // `output` (opened O_WRONLY|O_CREAT|O_TRUNC, one open file shared by fds 1 and 2). No other fd
  // is inherited. `extraEnv` ("NAME=value") is added to the test's own environment. Returns the
  // pid; records a test failure and returns -1 if exec fails.
  static pid_t spawnTarget(const std::vector<std::string>& argv,
                           const std::filesystem::path& output,
                           const std::vector<std::string>& extraEnv = {});

  // Waits for a child to end. On timeout the process is SIGKILLed, reaped, and a test failure is
  // recorded. A pid that is not our child is polled until it is gone and reported as NotAChild.
  static ExitStatus waitForExit(pid_t pid, std::chrono::milliseconds timeout);

  // Reaps pid if it is a zombie child of ours; never blocks.
  static void reapIfZombie(pid_t pid);

  // True when no process has this pid any more, or it is only a zombie (state Z or X).
  static bool isGone(pid_t pid);

  // Polls isGone() until it holds or the timeout passes.
  static bool waitUntilGone(pid_t pid, std::chrono::milliseconds timeout);

  // The state letter of /proc/PID/stat, if the process exists.
  static std::optional<char> state(pid_t pid);

  // Every descendant of `root` (children, their children, ...), zombies included.
  static std::set<pid_t> descendants(pid_t root);
  // Waits until each of `pids` is gone, reaping those that are zombie children of ours. False
  // if one is still there when the timeout passes.
  static bool reapAll(const std::set<pid_t>& pids, std::chrono::milliseconds timeout);
  // Stops `root` and its descendants (SIGSTOP, all of them first, so that none runs on while
  // the others die), SIGKILLs them and reaps the descendants (not the root: the caller waits).
  static void killTree(pid_t root, std::chrono::milliseconds timeout);

  // Live (not zombie) direct children of the test process.
  static std::set<pid_t> liveChildren();

  // SIGKILLs and reaps every child of the test process (cleanup after a failed test).
  static void killAllChildren();

  // Thread ids listed in /proc/PID/task.
  static std::set<pid_t> threadIds(pid_t pid);

  // Thread id -> thread name (comm) for every thread of PID.
  static std::map<pid_t, std::string> threadNames(pid_t pid);

  // fd number -> what it refers to, from /proc/PID/fd. Pipe and socket inode numbers are dropped
  // ("pipe", "socket") so that a restored task compares equal to the original.
  static std::map<int, std::string> fdTargets(pid_t pid);

  // A pid that no process holds right now (a short-lived child that was reaped).
  static pid_t unusedPid();
};

}  // namespace cryo::test
