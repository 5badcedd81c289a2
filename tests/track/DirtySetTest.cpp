// DirtySetTest: the page-range set trackers report and compute with: ranges stay sorted and
// merged whatever order they come in; intersection, difference and coverage.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "track/DirtySet.h"

namespace cryo::test {

namespace {

using R = DirtySet::Range;

std::set<uint64_t> units(const DirtySet& s) {
  std::set<uint64_t> out;
  for (const auto& [a, b] : s.ranges())
    for (uint64_t x = a; x < b; ++x) out.insert(x);
  return out;
}

void expectNormal(const DirtySet& s) {
  for (size_t i = 0; i < s.ranges().size(); ++i) {
    EXPECT_LT(s.ranges()[i].first, s.ranges()[i].second);
    if (i) {
      EXPECT_LT(s.ranges()[i - 1].second, s.ranges()[i].first) << "touching or overlapping";
    }
  }
}

}  // namespace

TEST(DirtySet, adds_merge_touching_and_overlapping_ranges) {
  DirtySet s;
  s.add(10, 20);
  s.add(30, 40);
  s.add(20, 30);  // fills the gap exactly
  EXPECT_EQ(s.ranges(), (std::vector<R>{{10, 40}}));
  s.add(0, 5);
  s.add(50, 60);
  s.add(3, 52);
  EXPECT_EQ(s.ranges(), (std::vector<R>{{0, 60}}));
  s.add(70, 70);  // empty
  EXPECT_EQ(s.rangeCount(), 1u);
  EXPECT_EQ(s.bytes(), 60u);
}

TEST(DirtySet, set_operations) {
  DirtySet a{{0, 10}, {20, 30}, {40, 50}};
  DirtySet b{{5, 25}, {45, 60}};
  EXPECT_EQ(a.intersect(b).ranges(), (std::vector<R>{{5, 10}, {20, 25}, {45, 50}}));
  EXPECT_EQ(a.subtract(b).ranges(), (std::vector<R>{{0, 5}, {25, 30}, {40, 45}}));
  EXPECT_EQ(b.subtract(a).ranges(), (std::vector<R>{{10, 20}, {50, 60}}));
  EXPECT_EQ(a.clip(8, 42).ranges(), (std::vector<R>{{8, 10}, {20, 30}, {40, 42}}));
  EXPECT_TRUE(a.covers(20, 30));
  EXPECT_FALSE(a.covers(20, 31));
  EXPECT_TRUE(a.contains(49));
  EXPECT_FALSE(a.contains(50));
  EXPECT_TRUE(a.covers(7, 7));
}

TEST(DirtySet, random_operations_match_a_plain_set) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    DirtySet a, b;
    std::set<uint64_t> ua, ub;
    for (int i = 0; i < 20; ++i) {
      uint64_t s = rng() % 200, len = rng() % 12;
      a.add(s, s + len);
      for (uint64_t x = s; x < s + len; ++x) ua.insert(x);
      s = rng() % 200, len = rng() % 12;
      b.add(s, s + len);
      for (uint64_t x = s; x < s + len; ++x) ub.insert(x);
    }
    expectNormal(a);
    EXPECT_EQ(units(a), ua);
    std::set<uint64_t> inter, diff;
    for (uint64_t x : ua) (ub.count(x) ? inter : diff).insert(x);
    DirtySet i = a.intersect(b), d = a.subtract(b);
    expectNormal(i);
    expectNormal(d);
    EXPECT_EQ(units(i), inter);
    EXPECT_EQ(units(d), diff);
    DirtySet u = a;
    u.add(b);
    expectNormal(u);
    std::set<uint64_t> uni = ua;
    uni.insert(ub.begin(), ub.end());
    EXPECT_EQ(units(u), uni);
  }
}

TEST(DirtySet, page_addresses_and_description) {
  DirtySet s{{0x1000, 0x3000}, {0x8000, 0x9000}};
  EXPECT_EQ(s.pageAddresses(0x1000), (std::vector<uint64_t>{0x1000, 0x2000, 0x8000}));
  EXPECT_EQ(s.pages(0x1000), 3u);
  EXPECT_EQ(s.describe(), "0x1000-0x3000 0x8000-0x9000");
  EXPECT_EQ(DirtySet{}.describe(), "(none)");
}

}  // namespace cryo::test
