// TaskRecord: what cryod keeps on disk about one task (task.json in the task's directory,
// 0600, written atomically): enough to list it, find its store and logs after a restart.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cryo::daemon {

struct TaskRecord {
  std::string id;
  std::string node;
  std::vector<std::string> command;
  std::vector<std::string> env;
  uint64_t everyUs = 0;
  uint64_t maxFreezeUs = 0;
  uint32_t replicas = 0;
  uint32_t keep = 0;
  std::string state;        // starting, running, exited, failed, stopped, lost
  int pid = 0;
  int exitCode = 0;
  std::string lastError;
  double createdUnix = 0;
  uint64_t epoch = 0;                    // the owner's term (issue 22 fences with it)
  std::vector<std::string> standbys;     // peer names its checkpoints are streamed to
  // The files the task's stdout and stderr were at its checkpoints, as the kernel names them
  // (canonical paths on its owner): a restore elsewhere gives it that node's logs instead.
  std::string stdoutWas;
  std::string stderrWas;

  std::filesystem::path dir;  // not stored: where the record was read from or goes
  std::filesystem::path store() const { return dir / "store"; }
  std::filesystem::path stdoutPath() const { return dir / "stdout.log"; }
  std::filesystem::path stderrPath() const { return dir / "stderr.log"; }

  void save() const;  // dir/task.json
  static TaskRecord load(const std::filesystem::path& dir);
  // task.json's text, and back (`dir` is not in it). fromJson throws naming `what`.
  std::string toJson() const;
  static TaskRecord fromJson(const std::string& text, const std::string& what);
  static constexpr const char* kFile = "task.json";
};

}  // namespace cryo::daemon
