/* bench_pattern.h: the contents bench_target writes into its memory, shared with cryo_bench so
 * that a restored target can be checked word for word. Plain C, usable from C++. */
#ifndef CRYO_BENCH_PATTERN_H
#define CRYO_BENCH_PATTERN_H

#include <stdint.h>

#define BENCH_PAGE_SIZE 4096u
#define BENCH_WORDS_PER_PAGE (BENCH_PAGE_SIZE / 8u)

/* Word `word` of page `page`: varied from word to word and page to page, never zero. Word 0 of
 * every page is the target's own counter (it changes while the target runs); words 1 and up
 * keep this value for the life of the target. */
static inline uint64_t bench_word(uint64_t page, uint64_t word) {
  uint64_t z = page * 0x9E3779B97F4A7C15ull + word * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
  z ^= z >> 29;
  z *= 0xD6E8FEB86659FD93ull;
  z ^= z >> 32;
  return z | 1u;
}

#endif
