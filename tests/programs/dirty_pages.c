/* dirty_pages: writes pseudo-random bytes all over a 32 MiB region, discards pages
 * (MADV_DONTNEED), maps and unmaps regions and grows the heap, printing a checksum of the
 * region each step: its output changes if any page is restored from a stale checkpoint. Held
 * before its last step by the test gate (prog_gate). */
#include <sys/mman.h>

#include "prog_common.h"

int main(void) {
  size_t n = 32u << 20;
  unsigned char* a = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) return 99;
  unsigned long x = 1, sum = 0;
  for (int step = 0; step < 60; step++) {
    if (step == 59) prog_gate();
    for (int k = 0; k < 200; k++) {
      x = x * 6364136223846793005UL + 1442695040888963407UL;
      a[(x >> 20) % n] += (unsigned char)(x >> 56);
    }
    if (step % 7 == 3) madvise(a + ((x >> 30) % (n / 4096)) * 4096, 8 * 4096, MADV_DONTNEED);
    if (step % 5 == 0) {
      unsigned char* m = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) return 99;
      memset(m, step, 1 << 20);
      for (size_t i = 0; i < (1 << 20); i += 4096) sum += m[i];
      if (step % 10 == 0) munmap(m, 1 << 20);
    }
    char* h = malloc(100000 + step * 1000);
    memset(h, step, 100000);
    sum += (unsigned char)h[500];
    if (step % 3) free(h);
    unsigned long c = 0;
    for (size_t i = 0; i < n; i += 512) c = c * 31 + a[i];
    printf("step %d c %lu sum %lu\n", step, c, sum);
    fflush(stdout);
    usleep(30000);
  }
  return 0;
}
