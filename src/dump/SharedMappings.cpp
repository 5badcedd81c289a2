// SharedMappings: which parts of shared memory objects an earlier process of the dumped tree
// already stored.
#include "dump/SharedMappings.h"

namespace cryo {

bool SharedMappings::stored(uint64_t ino, uint64_t offset, uint64_t len) const {
  auto it = parts_.find(ino);
  if (it == parts_.end()) return false;
  for (const auto& [b, e] : it->second)
    if (b <= offset && offset + len <= e) return true;
  return false;
}

void SharedMappings::add(uint64_t ino, uint64_t offset, uint64_t len) {
  parts_[ino].emplace_back(offset, offset + len);
}

}  // namespace cryo
