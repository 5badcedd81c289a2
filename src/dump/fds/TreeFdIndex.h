// TreeFdIndex: the fd tables of every frozen process of a dumped tree, with the open file
// descriptions they share matched across processes (kcmp), which pipe ends and sockets the
// tree holds, and what has been saved once for the whole tree.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/UniqueFd.h"
#include "dump/fds/FdTable.h"
#include "dump/fds/TcpResets.h"

namespace cryo {

class TreeFdIndex {
 public:
  // Reads the fd tables of the frozen processes `pids` (the tree's live processes).
  explicit TreeFdIndex(const std::vector<pid_t>& pids);

  const FdTable& table(pid_t pid) const;
  const std::map<pid_t, FdTable>& tables() const { return tables_; }
  // Whether `pid` is a live process of the tree.
  bool holdsProcess(pid_t pid) const { return tables_.count(pid) != 0; }
  // The tree-wide id of description `description` of `pid`: processes sharing one open file
  // description get the same id. 0 when no other process of the tree has it.
  uint64_t treeId(pid_t pid, uint32_t description) const;
  // Whether some process of the tree holds a read end / a write end of pipe inode `ino`.
  bool hasPipeReader(uint64_t ino) const { return readers_.count(ino) != 0; }
  bool hasPipeWriter(uint64_t ino) const { return writers_.count(ino) != 0; }
  // Whether some fd of the tree refers to inode `ino` of a socket or other object.
  bool holdsInode(uint64_t ino) const { return inodes_.count(ino) != 0; }
  // True the first time `key` is claimed: what is stored once for the whole tree (a pipe's
  // buffered bytes, a socket's queue).
  bool claimOnce(const std::string& key) { return claimed_.insert(key).second; }
  // TCP connections to reset once the dump has ended well (--tcp-close).
  TcpResets& tcpResets() { return tcpResets_; }
  // cryo's copies of the open files found in flight in UNIX socket queues that no fd of the
  // tree holds, numbered 1, 2, ... in the order found (see InFlightFiles).
  std::vector<UniqueFd>& inFlightOnly() { return inFlightOnly_; }

 private:
  std::map<pid_t, FdTable> tables_;
  std::map<std::pair<pid_t, uint32_t>, uint64_t> treeIds_;
  std::set<uint64_t> readers_, writers_, inodes_;
  std::set<std::string> claimed_;
  TcpResets tcpResets_;
  std::vector<UniqueFd> inFlightOnly_;
};

}  // namespace cryo
