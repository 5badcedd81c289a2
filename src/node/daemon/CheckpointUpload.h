// CheckpointUpload: one checkpoint directory of a task's store sent to one standby over one
// Replicate call (src/node/cryod.proto): Begin, every file in chunks, End with each file's size
// and SHA-256; returns once the standby has acked it durable. Every file is opened (through the
// directory's fd) before anything is sent, so a --keep merge that replaces the directory
// meanwhile never makes the stream half old, half new (and the standby checks the image).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/UniqueFd.h"
#include "cryod.grpc.pb.h"

namespace cryo::daemon {

// The standby refused the checkpoint because it does not hold its parent.
struct StandbyLacksParent : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CheckpointUpload {
 public:
  // Opens the checkpoint's files; throws std::runtime_error if the directory is gone (merged).
  CheckpointUpload(node::ReplicaBegin begin, const std::filesystem::path& dir);
  // Throws StandbyLacksParent, or std::runtime_error naming the standby, task and checkpoint.
  node::ReplicaAck send(node::Replica::Stub& stub, grpc::ClientContext& ctx,
                        const std::string& standby);
  // Test hook: CRYO_REPLICA_CUT_AFTER=N makes every upload of this process after the first N
  // cancel its call once half of its bytes are sent (a stream cut mid-way).
  static bool cutsThisOne();

 private:
  struct File {
    std::string name;
    UniqueFd fd;
    uint64_t size = 0;
  };
  // Streams one file; false once the stream is broken (the standby answered or hung up).
  bool sendFile(grpc::ClientWriter<node::ReplicaMessage>& w, const File& f,
                node::ReplicaFileDigest* digest, uint64_t& sent, uint64_t cutAt,
                grpc::ClientContext& ctx);
  std::string what(const std::string& standby) const;

  node::ReplicaBegin begin_;
  std::filesystem::path dir_;
  std::vector<File> files_;
  uint64_t total_ = 0;
};

}  // namespace cryo::daemon
