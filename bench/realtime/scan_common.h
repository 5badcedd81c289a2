/* scan_common.h: what the machine-limit probes scan_cost and scan_running share: a clock, a mixer, a region write-protected through its own userfaultfd, and one PAGEMAP_SCAN sweep over it. */
#ifndef CRYO_BENCH_SCAN_COMMON_H
#define CRYO_BENCH_SCAN_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/KernelUapi.h"

#define SCAN_PAGE 4096u

static inline double scan_now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static inline int scan_cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static inline uint64_t scan_mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x;
}

/* Registers [mem, mem + bytes) with a new userfaultfd in async write-protect mode (never-populated
 * pages marked too) and protects all of it. Returns the userfaultfd, or -1 after saying why. */
static inline int scan_protect(const char* prog, void* mem, size_t bytes) {
  int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (uffd < 0) {
    fprintf(stderr, "%s: userfaultfd: %s\n", prog, strerror(errno));
    return -1;
  }
  struct uffdio_api api;
  memset(&api, 0, sizeof api);
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
  struct uffdio_register reg;
  memset(&reg, 0, sizeof reg);
  reg.range.start = (uint64_t)(uintptr_t)mem;
  reg.range.len = bytes;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  struct uffdio_writeprotect wp;
  memset(&wp, 0, sizeof wp);
  wp.range = reg.range;
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  const char* step = ioctl(uffd, UFFDIO_API, &api) != 0            ? "UFFDIO_API (WP_ASYNC|WP_UNPOPULATED)"
                     : ioctl(uffd, UFFDIO_REGISTER, &reg) != 0     ? "UFFDIO_REGISTER (WP)"
                     : ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0 ? "UFFDIO_WRITEPROTECT"
                                                                   : NULL;
  if (step) {
    fprintf(stderr, "%s: %s: %s\n", prog, step, strerror(errno));
    close(uffd);
    return -1;
  }
  return uffd;
}

struct scanner {
  int pagemap;
  struct page_region* vec;
  size_t vec_len;
  uint64_t start, end;
};

/* One PAGEMAP_SCAN sweep of [start, end) (more ioctls only if the buffer fills) for written
 * pages, re-protecting them if `reprotect`. Returns the pages reported (-1 on error) and the
 * sweep's time in *seconds. */
static inline long long scan_sweep(const char* prog, struct scanner* s, int reprotect,
                                   double* seconds) {
  long long found = 0;
  uint64_t pos = s->start;
  double t0 = scan_now_s();
  while (pos < s->end) {
    struct pm_scan_arg a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.flags = reprotect ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0;
    a.start = pos;
    a.end = s->end;
    a.vec = (uint64_t)(uintptr_t)s->vec;
    a.vec_len = s->vec_len;
    a.category_mask = PAGE_IS_WRITTEN;
    a.return_mask = PAGE_IS_WRITTEN;
    long n = ioctl(s->pagemap, PAGEMAP_SCAN, &a);
    if (n < 0) {
      fprintf(stderr, "%s: PAGEMAP_SCAN: %s\n", prog, strerror(errno));
      return -1;
    }
    for (long i = 0; i < n; i++)
      found += (long long)((s->vec[i].end - s->vec[i].start) / SCAN_PAGE);
    if (a.walk_end <= pos) {
      fprintf(stderr, "%s: PAGEMAP_SCAN made no progress\n", prog);
      return -1;
    }
    pos = a.walk_end;
  }
  *seconds = scan_now_s() - t0;
  return found;
}

#endif
