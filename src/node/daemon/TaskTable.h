// TaskTable: the tasks of this node: starts them (library API, include/cryo/), or restores them
// from a checkpoint this node holds (its replica of another node's task, or its own store) and
// adopts them; streams their checkpoints to their standbys (a ReplicaSender each); keeps their
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
#include "node/daemon/Config.h"
#include "node/daemon/ReplicaSender.h"
#include "node/daemon/TaskRecord.h"

namespace cryo::daemon {

struct TaskView {
  TaskRecord record;
  uint64_t checkpoints = 0;      // complete ones in the store
  std::string lastCheckpoint;    // "" : none
  double lastCheckpointAgeS = -1;
  uint64_t failures = 0;         // failed attempts in this daemon's run
  std::string lastError;
  std::vector<StandbyStatus> standbys;
};

class ReplicaReceiver;

struct TaskLogs {
  std::string out;
  std::string err;
};

class TaskTable {
 public:
  // `channels` (null without TLS: no replication) reach the config's peers.
  TaskTable(const Config& config, PeerChannels* channels);
  ~TaskTable();  // shutdown()
  TaskTable(const TaskTable&) = delete;
  TaskTable& operator=(const TaskTable&) = delete;

  // `draft` gives command, env, every, max freeze, replicas, keep. Returns the new task's id
  // once its command runs; throws std::runtime_error if it cannot start.
  // With draft.replicas, its standbys are the first `replicas` peers (std::invalid_argument
  // when fewer are configured).
  std::string submit(TaskRecord draft);
  // Restores task `id` on this node from the newest complete checkpoint it holds: the replica
  // `replicas` holds of it (taken over: this node owns the task from then on), or the store of
  // a task of this node that no longer runs. Its stdout and stderr become this node's logs of
  // it (inherited by the restore in place of the files it had); then it runs under periodic
  // checkpoints and replication like a submitted task. Returns once it runs. Throws
  // std::out_of_range when this node has nothing of the task, std::runtime_error saying why
  // the restore failed (a file it had open that is missing here, a pid taken, ...).
  TaskView restore(const std::string& id, ReplicaReceiver& replicas);
  std::vector<TaskView> list();
  // Throws std::out_of_range for an unknown task.
  TaskView stop(const std::string& id);
  TaskLogs logs(const std::string& id, uint64_t maxBytes);
  // Stops every running task (SIGTERM, waiting for each to end) and the record keeper.
  void shutdown();

 private:
  struct Entry {
    TaskRecord record;
    std::unique_ptr<ReplicaSender> sender;  // null without standbys (destroyed after `task`)
    std::unique_ptr<api::Task> task;        // null for tasks of an earlier run
  };
  void loadRecords();
  api::TaskSpec specOf(const TaskRecord& r, ReplicaSender* sender) const;
  std::unique_ptr<ReplicaSender> senderFor(const TaskRecord& r);
  std::vector<std::string> standbysFor(uint32_t replicas, bool strict) const;
  // Restores and adopts a task whose directory (record, store) is rec.dir.
  TaskView adopt(TaskRecord rec);
  Entry& entry(const std::string& id);  // mu_ held
  void refresh(Entry& e);               // mu_ held: record in step with the task, saved on change
  TaskView view(const Entry& e) const;  // mu_ held
  void keepRecords();                   // the record keeper's thread

  std::string node_;
  Config config_;
  PeerChannels* channels_;
  std::filesystem::path tasksDir_;
  std::mutex mu_;
  std::map<std::string, Entry> tasks_;
  uint64_t nextSeq_ = 1;
  bool stopping_ = false;
  std::condition_variable wake_;
  std::thread keeper_;
};

}  // namespace cryo::daemon
