// HashTracker: the last-resort dirty-page backend: an XXH3 hash of every page, compared with
// the hashes of the previous checkpoint. Needs no kernel support; reads all memory each time.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>

#include "track/DirtyTracker.h"

namespace cryo {

class HashTracker : public DirtyTracker {
 public:
  std::string_view name() const override { return "hash"; }
  void arm(DumpContext& ctx) override;
  PageRanges changed(DumpContext& ctx) override;
  void trackNew(DumpContext& ctx) override {}

 private:
  // Hashes of the present pages of every trackable mapping; absent pages have no entry.
  std::unordered_map<uint64_t, uint64_t> scan(DumpContext& ctx);
  std::unordered_map<uint64_t, uint64_t> hashes_;
  std::map<uint64_t, uint64_t> mappings_;  // start -> end at the previous checkpoint
};

}  // namespace cryo
