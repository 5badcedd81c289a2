// SharedMappings: which parts of shared memory objects (MAP_SHARED anonymous memory, by inode)
// an earlier process of the dumped tree already stored, so that a page shared by several
// processes is stored once.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace cryo {

class SharedMappings {
 public:
  // Whether bytes [offset, offset + len) of object `ino` are stored already.
  bool stored(uint64_t ino, uint64_t offset, uint64_t len) const;
  void add(uint64_t ino, uint64_t offset, uint64_t len);

 private:
  std::map<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>> parts_;  // [begin, end)
};

}  // namespace cryo
