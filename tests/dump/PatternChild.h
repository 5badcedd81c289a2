// PatternChild: a forked child holding pages in known states (patterned, dropped, zeroed, never
// touched), stopped in pause(), for the tests of the page copiers.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace cryo::test {

inline constexpr uint64_t kPatternPage = 4096;

// The byte at offset `i` of patterned page `page`.
inline uint8_t pattern(uint64_t page, uint64_t i) {
  return static_cast<uint8_t>(page * 31 + i * 7 + 1);
}

// A child with 48 pages mapped: pages 0, 2 and 17 hold a pattern, page 4 was written and
// dropped, page 5 was written with zeros, the others were never touched. With `bulkPages`, it
// also maps that many pages more, each holding its pattern (page numbers counted from `bulk`).
// It waits in pause(); killed and reaped by the destructor.
class PatternChild {
 public:
  explicit PatternChild(uint64_t bulkPages = 0);
  ~PatternChild();
  PatternChild(const PatternChild&) = delete;
  PatternChild& operator=(const PatternChild&) = delete;

  pid_t pid = -1;
  uint64_t addr = 0;  // the first of the 48 pages
  uint64_t bulk = 0;  // the first of the bulk pages (0: none)
};

}  // namespace cryo::test
