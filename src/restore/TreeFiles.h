// TreeFiles: the kernel objects a tree restore shares between its processes: cryo holds a copy
// of each (an open file description, a pipe end, a socket, a shared memory object) under a key
// naming what it is, so that every other process that had it receives the same object.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "common/UniqueFd.h"
#include "cryo.pb.h"

namespace cryo {

class TreeFiles {
 public:
  // cryo's copy of the object named `key`, or -1 if no process has made it yet.
  int get(const std::string& key) const;
  // Keeps `fd` (cryo's copy) as the object named `key`; the first copy of a key wins.
  void put(const std::string& key, UniqueFd fd);
  bool has(const std::string& key) const { return objects_.count(key) != 0; }
  // Hands over cryo's copy of `key` (the key stays, holding nothing): what must be closed
  // before the tree runs.
  UniqueFd take(const std::string& key);
  // The size a shared memory object must have for every mapping of it in the tree.
  uint64_t sharedSize(uint64_t ino) const;
  void noteSharedSize(uint64_t ino, uint64_t size);

  // System V segment `seg`: used as it is when a segment with its id and size exists (its
  // pages are written back), else made again with the same id (kernel.shm_next_id). Segments
  // made by a restore that fails are removed again; `who` names the mapping in errors.
  void ensureSysv(const img::SysvShm& seg, const std::string& who);
  // The restore succeeded: segments removed at the checkpoint (IPC_RMID) are removed again,
  // and made ones are kept.
  void commit();
  ~TreeFiles();

  // Keys in use. An open file description shared by several processes ("fd:" + tree_id).
  static std::string description(uint64_t treeId) { return "fd:" + std::to_string(treeId); }
  // One end of an anonymous pipe (0: read end, 1: write end).
  static std::string pipeEnd(uint64_t ino, int end) {
    return "pipe:" + std::to_string(ino) + ":" + std::to_string(end);
  }
  // A socket, by the inode it had at the dump (a pair's other end is held until claimed).
  static std::string socket(uint64_t ino) { return "socket:" + std::to_string(ino); }
  // A shared memory object (MAP_SHARED anonymous, memfd, System V segment), by its inode.
  static std::string sharedMemory(uint64_t ino) { return "shmem:" + std::to_string(ino); }

 private:
  std::map<std::string, UniqueFd> objects_;
  std::map<uint64_t, uint64_t> sizes_;
  std::set<int> sysvSeen_, sysvMade_, sysvRemoved_;
  bool committed_ = false;
};

}  // namespace cryo
