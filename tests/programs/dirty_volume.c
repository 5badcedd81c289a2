/* dirty_volume: dirties a chosen percentage of a large buffer's pages, evenly spread, every 100 ms, so checkpoints of the same task differ only in how much it writes.
 *
 *   dirty_volume PERCENT [ROUNDS [MIB]]
 *
 * Maps MIB MiB (default 256) of private anonymous memory and writes every page once, then for
 * ROUNDS rounds (default 30) writes K = PERCENT % of its pages (at least 1): pages
 * phase, phase + N/K, phase + 2N/K, ... where the phase moves by one page each round, and
 * sleeps 100 ms. The writes of a round come in one burst at full speed. It prints one line once
 * every page is written and a checksum of the buffer at the end; the test gate (prog_gate) holds
 * it before its last round. */
#include <sys/mman.h>

#include "prog_common.h"

#define PAGE 4096ul

int main(int argc, char** argv) {
  if (argc < 2) {
    prog_say("usage: dirty_volume PERCENT [ROUNDS [MIB]]\n");
    return 2;
  }
  double percent = strtod(argv[1], NULL);
  long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 30;
  long mib = argc > 3 ? strtol(argv[3], NULL, 10) : 256;
  if (percent <= 0 || percent > 100 || rounds < 1 || mib < 1) {
    prog_say("dirty_volume: bad arguments\n");
    return 2;
  }
  size_t npages = (size_t)mib * (1ul << 20) / PAGE;
  size_t k = (size_t)((double)npages * percent / 100.0 + 0.5);
  if (k < 1) k = 1;
  size_t step = npages / k;
  unsigned char* a = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) prog_die("mmap");
  for (size_t p = 0; p < npages; p++) a[p * PAGE] = 1;
  prog_say("dirty_volume: %zu pages, %zu written per round, %ld rounds\n", npages, k, rounds);
  for (long r = 0; r < rounds; r++) {
    if (r == rounds - 1) prog_gate();
    size_t phase = (size_t)r % step;
    for (size_t i = 0; i < k; i++) {
      size_t p = phase + i * step;
      a[p * PAGE + (size_t)r % PAGE] = (unsigned char)(r + 2);
    }
    prog_sleep_ms(100);
  }
  uint64_t h = PROG_HASH_SEED;
  for (size_t p = 0; p < npages; p++) h = prog_hash_words(h, (const uint64_t*)(a + p * PAGE), 8);
  prog_say("done %ld rounds, checksum %016llx\n", rounds, (unsigned long long)h);
  return 0;
}
