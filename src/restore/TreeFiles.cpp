// TreeFiles: the kernel objects a tree restore shares between its processes, held by cryo
// under a key naming what each is.
#include "restore/TreeFiles.h"

#include <algorithm>

namespace cryo {

int TreeFiles::get(const std::string& key) const {
  auto it = objects_.find(key);
  return it == objects_.end() ? -1 : it->second.get();
}

void TreeFiles::put(const std::string& key, UniqueFd fd) { objects_.emplace(key, std::move(fd)); }

uint64_t TreeFiles::sharedSize(uint64_t ino) const {
  auto it = sizes_.find(ino);
  return it == sizes_.end() ? 0 : it->second;
}

void TreeFiles::noteSharedSize(uint64_t ino, uint64_t size) {
  uint64_t& s = sizes_[ino];
  if (size > s) s = size;
}

}  // namespace cryo
