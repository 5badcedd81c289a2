// ReplicaSender: the owner's side of replication for one task: one thread per standby streams
// every checkpoint of the task's store that the standby has not acked, oldest first (the
// incremental delta, or the owner's oldest, full, when the standby lacks a parent), and keeps
// what each standby holds durably and how far behind it is. The checkpointing thread only
// wakes the threads: a slow or dead standby never delays a checkpoint; it falls behind, is
// retried with a growing pause, and caught up when it answers again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node/daemon/Config.h"
#include "node/daemon/PeerChannels.h"

namespace grpc {
class ClientContext;
}

namespace cryo::daemon {

struct IndexEntry;

struct StandbyStatus {
  Peer peer;
  std::string acked;          // newest checkpoint the standby holds durably ("" : none known)
  uint64_t lag = 0;           // complete checkpoints of the owner newer than `acked`
  double ackedAgeS = -1;      // age of the acked checkpoint (-1 : none)
  std::string lastError;      // of the last failed send ("" : the last one went through)
};

struct SenderTask {
  std::string id;
  std::string owner;          // this node's name
  uint64_t epoch = 0;
  std::filesystem::path store;
};

class ReplicaSender {
 public:
  ReplicaSender(SenderTask task, const std::vector<Peer>& standbys, PeerChannels& channels);
  ~ReplicaSender();  // cancels what is in flight and joins the threads
  ReplicaSender(const ReplicaSender&) = delete;
  ReplicaSender& operator=(const ReplicaSender&) = delete;

  // A checkpoint landed in the store: wakes every standby's thread. Never blocks on the network.
  void checkpointed();
  // The task record the standbys get with each checkpoint (task.json's text).
  void setRecord(std::string recordJson);
  std::vector<StandbyStatus> status() const;

 private:
  struct Link {
    StandbyStatus st;
    std::chrono::system_clock::time_point ackedTime;
    grpc::ClientContext* inFlight = nullptr;
    std::thread thread;
  };
  void serve(Link& link);
  // Sends what `link` lacks; false when a send failed (the caller pauses before trying again).
  bool catchUp(Link& link);
  bool sendOne(Link& link, const IndexEntry& e);
  void noteLag(Link& link, const std::vector<IndexEntry>& entries);
  std::string recordJson() const;

  SenderTask task_;
  PeerChannels& channels_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  uint64_t generation_ = 0;  // bumped by each checkpoint
  bool stopping_ = false;
  std::string record_;
  std::vector<std::unique_ptr<Link>> links_;
};

}  // namespace cryo::daemon
