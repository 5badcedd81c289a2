// DirtySet: a set of pages as sorted, merged address ranges [start, end) (no two ranges touch
// or overlap). What a dirty-page tracker reports, and the set arithmetic trackers use inside.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dump/PageSelection.h"

namespace cryo {

class DirtySet {
 public:
  using Range = std::pair<uint64_t, uint64_t>;

  DirtySet() = default;
  DirtySet(std::initializer_list<Range> ranges);

  // Adds [start, end) (empty ranges are ignored); ranges may come in any order.
  void add(uint64_t start, uint64_t end);
  void add(const DirtySet& other);

  DirtySet intersect(const DirtySet& other) const;
  DirtySet subtract(const DirtySet& other) const;
  // The part of the set inside [start, end).
  DirtySet clip(uint64_t start, uint64_t end) const;

  bool contains(uint64_t addr) const;
  // Whether every byte of [start, end) is in the set.
  bool covers(uint64_t start, uint64_t end) const;
  bool empty() const { return ranges_.empty(); }
  void clear() { ranges_.clear(); }
  // Number of ranges, and of bytes.
  size_t rangeCount() const { return ranges_.size(); }
  uint64_t bytes() const;
  uint64_t pages(uint64_t pageSize) const { return bytes() / pageSize; }

  const std::vector<Range>& ranges() const { return ranges_; }
  // The same ranges in the type the dump takes (sorted [start, end) pairs).
  const PageRanges& pageRanges() const { return ranges_; }
  // Every page address in the set (for tests and small sets).
  std::vector<uint64_t> pageAddresses(uint64_t pageSize) const;
  // "0x1000-0x3000 0x8000-0x9000" (at most `maxRanges`, then "...").
  std::string describe(size_t maxRanges = 8) const;

  bool operator==(const DirtySet& o) const { return ranges_ == o.ranges_; }

 private:
  std::vector<Range> ranges_;
};

}  // namespace cryo
