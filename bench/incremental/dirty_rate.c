/* dirty_rate: a benchmark task: touches SIZE MiB, then every 100 ms writes PCT percent of its
 * pages and spends the rest of the time on a fixed unit of computation, counting the units.
 * Prints "units N" at the end: its own work rate, to compare with and without checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  size_t mib = strtoul(argv[1], 0, 10);
  double pct = atof(argv[2]), seconds = atof(argv[3]);
  size_t n = mib << 20, pages = n / 4096;
  unsigned char* a = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) return 99;
  memset(a, 1, n);
  printf("ready\n");
  fflush(stdout);
  size_t perTick = (size_t)(pages * pct / 100.0);
  unsigned long x = 88172645463325252UL, units = 0;
  volatile double sink = 0;
  double end = now() + seconds, tick = now();
  while (now() < end) {
    for (size_t i = 0; i < perTick; i++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      a[(x % pages) * 4096] += 1;
    }
    tick += 0.1;
    while (now() < tick) {
      double s = 0;
      for (int k = 0; k < 20000; k++) s += k * 1e-9;
      sink += s;
      units++;
    }
  }
  printf("units %lu\n", units);
  return 0;
}
