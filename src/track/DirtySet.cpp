// DirtySet: a set of pages as sorted, merged address ranges [start, end) (no two ranges touch
// or overlap). What a dirty-page tracker reports, and the set arithmetic trackers use inside.
#include "track/DirtySet.h"

#include <algorithm>

#include <fmt/format.h>

namespace cryo {

DirtySet::DirtySet(std::initializer_list<Range> ranges) {
  for (const Range& r : ranges) add(r.first, r.second);
}

void DirtySet::add(uint64_t start, uint64_t end) {
  if (start >= end) return;
  // The common case: ranges arrive in address order.
  if (ranges_.empty() || start > ranges_.back().second) {
    ranges_.emplace_back(start, end);
    return;
  }
  if (start >= ranges_.back().first) {
    ranges_.back().second = std::max(ranges_.back().second, end);
    return;
  }
  // First range that ends at or after `start` (it may touch or overlap the new one).
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), start,
                                [](const Range& r, uint64_t s) { return r.second < s; });
  auto last = first;
  while (last != ranges_.end() && last->first <= end) ++last;
  if (first == last) {
    ranges_.insert(first, Range{start, end});
    return;
  }
  uint64_t s = std::min(start, first->first);
  uint64_t e = std::max(end, (last - 1)->second);
  *first = Range{s, e};
  ranges_.erase(first + 1, last);
}

void DirtySet::add(const DirtySet& other) {
  if (ranges_.empty()) {
    ranges_ = other.ranges_;
    return;
  }
  if (other.ranges_.size() <= 2) {
    for (const Range& r : other.ranges_) add(r.first, r.second);
    return;
  }
  // One pass over both (each sorted): linear, where adding range by range into the middle
  // would move the tail once per range.
  std::vector<Range> out;
  out.reserve(ranges_.size() + other.ranges_.size());
  auto a = ranges_.begin();
  auto b = other.ranges_.begin();
  while (a != ranges_.end() || b != other.ranges_.end()) {
    const Range& r =
        b == other.ranges_.end() || (a != ranges_.end() && a->first <= b->first) ? *a++ : *b++;
    if (!out.empty() && r.first <= out.back().second)
      out.back().second = std::max(out.back().second, r.second);
    else
      out.push_back(r);
  }
  ranges_ = std::move(out);
}

DirtySet DirtySet::intersect(const DirtySet& other) const {
  DirtySet out;
  auto a = ranges_.begin();
  auto b = other.ranges_.begin();
  while (a != ranges_.end() && b != other.ranges_.end()) {
    uint64_t s = std::max(a->first, b->first);
    uint64_t e = std::min(a->second, b->second);
    if (s < e) out.ranges_.emplace_back(s, e);  // in order, never touching the previous one
    if (a->second < b->second)
      ++a;
    else
      ++b;
  }
  return out;
}

DirtySet DirtySet::subtract(const DirtySet& other) const {
  DirtySet out;
  auto b = other.ranges_.begin();
  for (const Range& r : ranges_) {
    uint64_t pos = r.first;
    while (b != other.ranges_.end() && b->second <= pos) ++b;
    for (auto c = b; c != other.ranges_.end() && c->first < r.second; ++c) {
      if (c->first > pos) out.ranges_.emplace_back(pos, c->first);
      pos = std::max(pos, c->second);
      if (pos >= r.second) break;
    }
    if (pos < r.second) out.ranges_.emplace_back(pos, r.second);
  }
  return out;
}

DirtySet DirtySet::clip(uint64_t start, uint64_t end) const {
  DirtySet window;
  window.add(start, end);
  return intersect(window);
}

bool DirtySet::contains(uint64_t addr) const { return covers(addr, addr + 1); }

bool DirtySet::covers(uint64_t start, uint64_t end) const {
  if (start >= end) return true;
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), start,
                             [](uint64_t s, const Range& r) { return s < r.first; });
  if (it == ranges_.begin()) return false;
  --it;
  return it->first <= start && end <= it->second;
}

uint64_t DirtySet::bytes() const {
  uint64_t n = 0;
  for (const Range& r : ranges_) n += r.second - r.first;
  return n;
}

std::vector<uint64_t> DirtySet::pageAddresses(uint64_t pageSize) const {
  std::vector<uint64_t> out;
  for (const Range& r : ranges_)
    for (uint64_t a = r.first; a < r.second; a += pageSize) out.push_back(a);
  return out;
}

std::string DirtySet::describe(size_t maxRanges) const {
  std::string out;
  size_t i = 0;
  for (const Range& r : ranges_) {
    if (i++ == maxRanges) {
      out += fmt::format(" ... ({} ranges)", ranges_.size());
      break;
    }
    if (!out.empty()) out += ' ';
    out += fmt::format("{:#x}-{:#x}", r.first, r.second);
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace cryo
