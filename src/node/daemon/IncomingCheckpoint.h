// IncomingCheckpoint: one replicated checkpoint being written on a standby: its files go into a
// temporary directory of the store (invisible to the store's listing and removed by it as a
// leftover), each checked against the chunk order and, at the end, against the sender's sizes
// and SHA-256 digests and as an image (manifest, tree and page checksums, the parent it names);
// only then fsynced, renamed into place and the store directory fsynced. Destroyed before
// commit(), it removes everything it wrote: a cut stream leaves the store as it was.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "common/UniqueFd.h"
#include "cryod.pb.h"
#include "node/daemon/Sha256.h"

namespace cryo::daemon {

class IncomingCheckpoint {
 public:
  // `begin` names the checkpoint; `store` is the standby's store of the task (0700).
  IncomingCheckpoint(const std::filesystem::path& store, const node::ReplicaBegin& begin);
  ~IncomingCheckpoint();
  IncomingCheckpoint(const IncomingCheckpoint&) = delete;
  IncomingCheckpoint& operator=(const IncomingCheckpoint&) = delete;

  // Throws std::invalid_argument for a bad name, a chunk out of order or too much data.
  void write(const node::ReplicaChunk& chunk);
  // Checks every file against `end` and the whole as an image; fsyncs the files and the
  // temporary directory. Throws std::invalid_argument saying what does not match.
  void verify(const node::ReplicaEnd& end);
  // Renames the checkpoint into place and fsyncs the store directory: it is durable.
  void commit();

 private:
  struct File {
    UniqueFd fd;
    uint64_t size = 0;
    Sha256 sum;
  };
  File& fileFor(const std::string& name, uint64_t offset);
  void verifyImage() const;
  [[noreturn]] void bad(const std::string& why) const;

  std::filesystem::path store_, tmp_, final_;
  node::ReplicaBegin begin_;
  std::map<std::string, File> files_;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

}  // namespace cryo::daemon
