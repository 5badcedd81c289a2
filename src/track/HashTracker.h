// HashTracker: the last-resort dirty-page backend: an XXH3-64 hash of every page that holds
// data, compared with the hashes of the previous checkpoint. Needs nothing from the kernel;
// reads all tracked memory at each checkpoint while the task is frozen.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "track/DirtyTracker.h"

namespace cryo {

class Pagemap;
class RemoteMemory;

class HashTracker : public DirtyTracker {
 public:
  std::string_view name() const override { return "hash"; }
  // The pages that held data at the last sweep, ascending.
  const std::vector<uint64_t>& pagesHoldingData() const { return hashes_.addrs; }

 protected:
  void doArm(TrackTarget& target) override;
  DirtySet doCollect(TrackTarget& target) override;

 private:
  struct Hashes {
    std::vector<uint64_t> addrs;   // ascending
    std::vector<uint64_t> values;  // values[i]: hash of the page at addrs[i]
  };
  DirtySet sweep(TrackTarget& target, bool report);
  // Reads the pages `pending` names (ascending) and appends their hashes to `out`.
  void hashPages(RemoteMemory& mem, std::vector<uint64_t>& pending, Hashes& out);

  pid_t pid_ = 0;
  DirtySet tracked_;  // the tracked mappings at the last sweep
  Hashes hashes_;     // pages that held data at the last sweep
  std::vector<uint8_t> buffer_;
};

}  // namespace cryo
