/* scan_cost: this machine's physical limits for bounded-freeze checkpoints: memcpy bandwidth and the cost of one PAGEMAP_SCAN over userfaultfd-WP memory. */
/*
 *   scan_cost [SIZE_MIB [REPS]]          (defaults: 1024 MiB, 7 repetitions; memcpy: 5)
 *
 * Everything happens inside this one process:
 *  - memcpy of SIZE_MIB MiB into a buffer whose pages are already touched (median of 5);
 *  - a SIZE_MIB MiB private anonymous region, every page populated, registered with a
 *    userfaultfd (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, UFFDIO_REGISTER_MODE_WP)
 *    and write-protected; then the time of one PAGEMAP_SCAN ioctl on /proc/self/pagemap with
 *    PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC (report the written pages and protect them
 *    again) over the whole region, when no page, 1 % and 10 % of the pages (scattered) were
 *    written since the previous scan (median of REPS);
 *  - the cost of the first write to a write-protected page (the async WP fault), per page.
 * One line per figure: NAME VALUE UNIT  (details after '#').
 * Needs root, or vm.unprivileged_userfaultfd=1. Exit status 1 if a figure could not be taken.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scan_common.h"

#define PAGE SCAN_PAGE
#define now_s scan_now_s
#define mix scan_mix

static double median(double* v, int n) {
  qsort(v, n, sizeof *v, scan_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void* map_anon(size_t bytes) {
  void* p = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("scan_cost: mmap");
    exit(1);
  }
  /* Count 4 KiB pages, as a task that did not ask for huge pages has them. */
  madvise(p, bytes, MADV_NOHUGEPAGE);
  return p;
}

/* (a) memcpy into already-touched memory. */
static double memcpy_gbps(size_t bytes) {
  uint64_t* src = map_anon(bytes);
  uint64_t* dst = map_anon(bytes);
  for (size_t i = 0; i < bytes / 8; i++) src[i] = mix(i) | 1;
  memset(dst, 0x5A, bytes);
  memcpy(dst, src, bytes); /* warm-up */
  double t[5];
  for (int r = 0; r < 5; r++) {
    double t0 = now_s();
    memcpy(dst, src, bytes);
    t[r] = now_s() - t0;
  }
  volatile uint64_t keep = dst[bytes / 16];
  (void)keep;
  munmap(src, bytes);
  munmap(dst, bytes);
  return bytes / median(t, 5) / 1e9;
}

/* One PAGEMAP_SCAN of the whole region: reports the written pages and protects them again. */
static long long scan_once(struct scanner* s, double* seconds) {
  return scan_sweep("scan_cost", s, 1, seconds);
}

/* Writes one word into the pages chosen for round `round` (about permille/1000 of them,
 * scattered). Returns how many pages were written. */
static size_t write_fraction(uint64_t* mem, size_t pages, unsigned permille, uint64_t round) {
  size_t n = 0;
  if (permille == 0) return 0;
  for (size_t p = 0; p < pages; p++) {
    if (mix(p ^ (round << 40)) % 1000 < permille) {
      mem[p * (PAGE / 8) + (p & 7)] += 1;
      n++;
    }
  }
  return n;
}

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 1024;
  int reps = argc > 2 ? atoi(argv[2]) : 7;
  if (mib == 0 || reps < 1 || reps > 1000) {
    fprintf(stderr, "usage: scan_cost [SIZE_MIB [REPS]]\n");
    return 2;
  }
  size_t bytes = mib << 20, pages = bytes / PAGE;
  int status = 0;

  printf("memcpy_touched %.2f GB/s  # memcpy into touched memory, %zu MiB, median of 5\n",
         memcpy_gbps(bytes), mib);
  fflush(stdout);

  uint64_t* mem = map_anon(bytes);
  for (size_t i = 0; i < bytes / 8; i++) mem[i] = mix(i) | 1;

  int uffd = scan_protect("scan_cost", mem, bytes);
  if (uffd < 0) return 1;

  struct scanner s;
  s.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (s.pagemap < 0) {
    perror("scan_cost: /proc/self/pagemap");
    return 1;
  }
  s.vec_len = pages / 2 + 1; /* enough for every other page written */
  s.vec = calloc(s.vec_len, sizeof *s.vec);
  s.start = (uint64_t)(uintptr_t)mem;
  s.end = s.start + bytes;
  if (!s.vec) return 1;

  double t;
  if (scan_once(&s, &t) < 0) return 1; /* everything is protected from here on */

  static const unsigned permille[] = {0, 10, 100};
  static const char* names[] = {"clean", "1pct", "10pct"};
  double* times = calloc(reps, sizeof *times);
  double fault_ns[64];
  int faults = 0;
  uint64_t round = 1;
  for (int f = 0; f < 3; f++) {
    long long expected = 0, got = 0;
    for (int r = 0; r < reps; r++, round++) {
      double w0 = now_s();
      size_t n = write_fraction(mem, pages, permille[f], round);
      double w1 = now_s();
      /* The same pages once more: no fault now; the difference is the fault cost. */
      write_fraction(mem, pages, permille[f], round);
      double w2 = now_s();
      if (n && faults < 64) fault_ns[faults++] = ((w1 - w0) - (w2 - w1)) / n * 1e9;
      long long found = scan_once(&s, &times[r]);
      if (found < 0) return 1;
      expected += (long long)n;
      got += found;
    }
    if (got != expected) {
      fprintf(stderr, "scan_cost: %s: scans reported %lld written pages, %lld were written\n",
              names[f], got, expected);
      status = 1;
    }
    printf("pagemap_scan_%s %.3f ms  # one PAGEMAP_SCAN (WP_MATCHING|CHECK_WPASYNC), %zu MiB, "
           "%.1f %% of %zu pages written since the previous scan, median of %d\n",
           names[f], median(times, reps) * 1e3, mib, permille[f] / 10.0, pages, reps);
    fflush(stdout);
  }
  if (faults)
    printf("wp_async_fault %.3f us/page  # first write to a write-protected page, over a rewrite, median of %d\n",
           median(fault_ns, faults) / 1e3, faults);
  free(times);
  free(s.vec);
  close(s.pagemap);
  close(uffd);
  munmap(mem, bytes);
  return status;
}
