// ReplicaReceiver: the standby's side of replication: DATA/replicas/TASK holds the owner's task
// record (task.json) and a store of the checkpoints received, each made durable through an
// IncomingCheckpoint before it is acked, merged with the task's --keep like the owner's. It
// refuses a checkpoint whose parent it lacks, one from an older epoch than it has seen, and a
// stream that does not check out; a stream cut mid-way leaves the store as it was. It hands a
// replica over for a restore on this node (release).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "cryod.pb.h"
#include "node/daemon/TaskRecord.h"

namespace cryo::daemon {

// A checkpoint refused for what this node holds (as opposed to a malformed stream, which is
// std::invalid_argument).
struct ReplicaRefused : std::runtime_error {
  enum class Why { kMissingParent, kStaleEpoch, kConflict, kOwnedHere, kNotOwner };
  ReplicaRefused(Why w, const std::string& what) : std::runtime_error(what), why(w) {}
  Why why;
};

struct ReplicaView {
  TaskRecord record;             // the owner's record (record.node: the owner)
  uint64_t checkpoints = 0;      // complete ones held
  std::string newest;            // "" : none
  double newestAgeS = -1;
};

class ReplicaReceiver {
 public:
  // DATA/replicas (0700); leftovers of streams cut by this node's death are removed.
  ReplicaReceiver(std::string node, const std::filesystem::path& dataDir);

  // One Replicate call from the node whose certificate says `sender` (which must be the task's
  // owner: a node sends only its own tasks), read through `next`
  // (false: the stream ended or was cut). Returns the ack once the checkpoint is durable.
  // Throws ReplicaRefused, std::invalid_argument (a malformed or corrupt stream) or
  // std::runtime_error (cut mid-way, or this node cannot write).
  node::ReplicaAck receive(const std::string& sender,
                           const std::function<bool(node::ReplicaMessage&)>& next);
  std::vector<ReplicaView> list() const;
  // Moves the replica of `task` (record and store) to `to` for a restore on this node, which
  // owns the task from then on (later streams for it are refused). Returns its record, with
  // dir = `to`. Throws std::out_of_range when this node holds no replica of it.
  TaskRecord release(const std::string& task, const std::filesystem::path& to);

 private:
  std::mutex& lockFor(const std::string& task);
  void checkBegin(const node::ReplicaBegin& b, const TaskRecord& rec) const;
  void checkHeld(const std::filesystem::path& dir, const node::ReplicaBegin& b) const;
  node::ReplicaAck store(const std::filesystem::path& dir, const node::ReplicaBegin& b,
                         TaskRecord rec, const std::string& sender,
                         const std::function<bool(node::ReplicaMessage&)>& next);

  std::string node_;
  std::filesystem::path dir_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<std::mutex>> taskLocks_;
  std::set<std::string> ownedHere_;
};

}  // namespace cryo::daemon
