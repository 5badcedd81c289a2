// FileMappingCache: file mappings described while the task ran, reused while it is frozen.
#include "dump/FileMappingCache.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "dump/MemoryCollector.h"

namespace cryo {

std::shared_ptr<const FileMappingCache> FileMappingCache::of(pid_t pid,
                                                             const std::vector<MapsEntry>& maps) {
  auto cache = std::make_shared<FileMappingCache>();
  for (const MapsEntry& m : maps) {
    if (m.path.empty() || m.path[0] != '/') continue;
    try {
      img::Vma v = MemoryCollector::describe(pid, m);
      if (v.kind() == img::Vma::FILE) cache->known_.emplace_back(m, std::move(v));
    } catch (const Error& e) {
      spdlog::debug("pid {}: mapping left for the freeze to describe: {}", pid, e.what());
    }
  }
  return cache;
}

const img::Vma* FileMappingCache::find(const MapsEntry& m) const {
  auto it = std::lower_bound(known_.begin(), known_.end(), m.start,
                             [](const auto& k, uint64_t start) { return k.first.start < start; });
  if (it == known_.end() || !(it->first == m)) return nullptr;
  return &it->second;
}

}  // namespace cryo
