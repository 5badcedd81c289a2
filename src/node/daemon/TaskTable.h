// TaskTable: the tasks of this node: starts them (library API, include/cryo/), keeps their
// records on disk in step with what they do, and answers list, logs and stop. Tasks recorded by
// an earlier run of the daemon are listed with their stores ("lost" if they were still
// running when it ended).
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cryo/task.h"
#include "node/daemon/TaskRecord.h"

namespace cryo::daemon {

struct TaskView {
  TaskRecord record;
  uint64_t checkpoints = 0;      // complete ones in the store
  std::string lastCheckpoint;    // "" : none
  double lastCheckpointAgeS = -1;
  uint64_t failures = 0;         // failed attempts in this daemon's run
  std::string lastError;
};

struct TaskLogs {
  std::string out;
  std::string err;
};

class TaskTable {
 public:
  TaskTable(std::string node, std::filesystem::path dataDir);
  ~TaskTable();  // shutdown()
  TaskTable(const TaskTable&) = delete;
  TaskTable& operator=(const TaskTable&) = delete;

  // `draft` gives command, env, every, max freeze, replicas, keep. Returns the new task's id
  // once its command runs; throws std::runtime_error if it cannot start.
  std::string submit(TaskRecord draft);
  std::vector<TaskView> list();
  // Throws std::out_of_range for an unknown task.
  TaskView stop(const std::string& id);
  TaskLogs logs(const std::string& id, uint64_t maxBytes);
  // Stops every running task (SIGTERM, waiting for each to end) and the record keeper.
  void shutdown();

 private:
  struct Entry {
    TaskRecord record;
    std::unique_ptr<api::Task> task;  // null for tasks of an earlier run
  };
  void loadRecords();
  Entry& entry(const std::string& id);  // mu_ held
  void refresh(Entry& e);               // mu_ held: record in step with the task, saved on change
  TaskView view(const Entry& e) const;  // mu_ held
  void keepRecords();                   // the record keeper's thread

  std::string node_;
  std::filesystem::path tasksDir_;
  std::mutex mu_;
  std::map<std::string, Entry> tasks_;
  uint64_t nextSeq_ = 1;
  bool stopping_ = false;
  std::condition_variable wake_;
  std::thread keeper_;
};

}  // namespace cryo::daemon
