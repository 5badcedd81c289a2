// FileMappingCache: how a process's file mappings were described while it ran (the file's
// identity, checked by two stats each), for the frozen dump to reuse for every mapping that
// /proc/PID/maps still shows unchanged.
#pragma once

#include <sys/types.h>

#include <memory>
#include <utility>
#include <vector>

#include "common/ProcFs.h"
#include "cryo.pb.h"

namespace cryo {

class FileMappingCache {
 public:
  // Describes each mapping of `maps` (process `pid`, running) that names a regular file. One
  // that cannot be described now is left out: the frozen dump describes it, or says why not.
  static std::shared_ptr<const FileMappingCache> of(pid_t pid, const std::vector<MapsEntry>& maps);

  // The description of a mapping identical to `m` (range, protections, offset, device, inode,
  // path, flags), or null.
  const img::Vma* find(const MapsEntry& m) const;
  size_t size() const { return known_.size(); }

 private:
  std::vector<std::pair<MapsEntry, img::Vma>> known_;  // by start address
};

}  // namespace cryo
