/* scan_running: what one PAGEMAP_SCAN that re-protects written pages costs when the task it scans is running, against the same scan of the stopped task, and what each costs the task. */
/*
 *   scan_running [SIZE_MIB [RATE_MIB_S [SECONDS]]]   (defaults: 1024 MiB, 200 MiB/s, 2 s a mode)
 *
 * A child pinned to CPU 0 holds SIZE_MIB MiB of private anonymous memory registered with its own
 * userfaultfd (WP_ASYNC | WP_UNPOPULATED, every page protected) and writes one word into a
 * random page at RATE_MIB_S, doing fixed units of work between writes. The parent scans the
 * child's /proc/PID/pagemap every 10 ms, in turn:
 *   running     from CPU 1 while the child runs (what a pre-copy round does);
 *   stopped     from CPU 1 while the child is stopped (SIGSTOP .. SIGCONT; what a freeze does);
 *   same_cpu    from CPU 0 while the child runs (the scan preempts the child);
 *   moved       from CPU 0, the scanning thread moving itself there from CPU 1 for each scan;
 *   moved_fifo  as moved, the scanning thread at SCHED_FIFO 1 while it is there: its wake-up
 *               on CPU 0 preempts the child at once instead of waiting for the child's slice;
 *   read_only   from CPU 1 while the child runs, without re-protecting (PM_SCAN_WP_MATCHING
 *               off): the written pages stay writable, so the next scan reports them again.
 * Per mode: the median and p90 of one scan, the pages it reported, and the child's units of work
 * per ms against a phase without scans (the first write to each page then faults only once).
 * One line per figure: NAME VALUE UNIT  (details after '#'). Needs root and 2 CPUs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scan_common.h"

#define PAGE SCAN_PAGE
#define now_s scan_now_s
#define mix scan_mix

static double pct(double* v, int n, double p) {
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, scan_cmp_double);
  int i = (int)(p / 100.0 * n + 0.999999) - 1;
  return v[i < 0 ? 0 : i];
}

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  if (sched_setaffinity(0, sizeof s, &s) != 0) {
    perror("scan_running: sched_setaffinity");
    exit(1);
  }
}

struct shared {
  _Atomic uint64_t units; /* the child's work done */
  _Atomic int ready;
  uint64_t start, len;    /* the child's region */
};

/* The child: protects its region, then writes at `rate` pages per second. */
static void child_main(struct shared* sh, size_t bytes, double pagesPerSec) {
  pin(0);
  uint64_t* mem = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) _exit(3);
  madvise(mem, bytes, MADV_NOHUGEPAGE);
  for (size_t i = 0; i < bytes / 8; i += PAGE / 8) mem[i] = mix(i) | 1;
  if (scan_protect("scan_running", mem, bytes) < 0) _exit(4);
  sh->start = (uint64_t)(uintptr_t)mem;
  sh->len = bytes;
  atomic_store(&sh->ready, 1);
  size_t pages = bytes / PAGE;
  double gap = 1.0 / pagesPerSec, next = now_s();
  uint64_t x = 12345, local = 0;
  for (;;) {
    double t = now_s();
    if (t >= next) {
      next += gap;
      if (next < t - 0.01) next = t; /* fell behind (stopped): do not catch up in a burst */
      x = mix(x + 1);
      mem[(x % pages) * (PAGE / 8) + (x & 7)] += 1;
    }
    /* A unit of work: a few hundred ns of arithmetic over a small, cached array. */
    static uint64_t acc[64];
    for (int i = 0; i < 64; i++) acc[i] = mix(acc[i] + (uint64_t)i);
    local++;
    if ((local & 63) == 0) atomic_store_explicit(&sh->units, local, memory_order_relaxed);
  }
}

static long long scan(struct scanner* s, int reprotect, double* seconds) {
  long long n = scan_sweep("scan_running", s, reprotect, seconds);
  if (n < 0) exit(1);
  return n;
}

static void wait_state(pid_t pid, char want) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  for (;;) {
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) exit(1);
    buf[n] = 0;
    char* p = strrchr(buf, ')');
    if (p && p[2] == want) return;
    usleep(20);
  }
}

enum mode { NONE, RUNNING, STOPPED, SAME_CPU, MOVED, MOVED_FIFO, READ_ONLY };
static const char* mode_names[] = {"none",  "running",    "stopped",  "same_cpu",
                                   "moved", "moved_fifo", "read_only"};

static void fifo(int on) {
  struct sched_param p = {.sched_priority = on ? 1 : 0};
  if (sched_setscheduler(0, on ? SCHED_FIFO : SCHED_OTHER, &p) != 0) {
    perror("scan_running: sched_setscheduler");
    exit(1);
  }
}

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 1024;
  double rate = argc > 2 ? atof(argv[2]) : 200;
  double seconds = argc > 3 ? atof(argv[3]) : 2;
  if (mib == 0 || rate <= 0 || seconds <= 0) {
    fprintf(stderr, "usage: scan_running [SIZE_MIB [RATE_MIB_S [SECONDS]]]\n");
    return 2;
  }
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    fprintf(stderr, "scan_running: needs 2 CPUs\n");
    return 1;
  }
  struct shared* sh = mmap(0, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) return 1;
  memset(sh, 0, sizeof *sh);
  size_t bytes = mib << 20;
  pid_t child = fork();
  if (child == 0) child_main(sh, bytes, rate * 1048576.0 / PAGE);
  while (!atomic_load(&sh->ready)) usleep(1000);
  pin(1);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/pagemap", (int)child);
  struct scanner s;
  s.pagemap = open(path, O_RDONLY | O_CLOEXEC);
  if (s.pagemap < 0) {
    perror("scan_running: pagemap");
    return 1;
  }
  s.vec_len = 1 << 16;
  s.vec = calloc(s.vec_len, sizeof *s.vec);
  s.start = sh->start;
  s.end = sh->start + sh->len;
  double t;
  scan(&s, 1, &t); /* every page protected */

  int maxScans = (int)(seconds * 100) + 8;
  double* times = calloc((size_t)maxScans, sizeof *times);
  double basePerMs = 0;
  static const enum mode order[] = {NONE,  RUNNING,    STOPPED,   SAME_CPU,
                                     MOVED, MOVED_FIFO, READ_ONLY, NONE};
  double* moveTimes = calloc((size_t)maxScans, sizeof *moveTimes);
  for (size_t m = 0; m < sizeof order / sizeof *order; m++) {
    enum mode mode = order[m];
    pin(mode == SAME_CPU ? 0 : 1);
    int n = 0;
    long long pages = 0;
    uint64_t u0 = atomic_load(&sh->units);
    double t0 = now_s(), next = t0;
    while (now_s() - t0 < seconds) {
      next += 0.010;
      while (now_s() < next) usleep(500);
      if (mode == NONE) continue;
      if (mode == STOPPED) {
        kill(child, SIGSTOP);
        wait_state(child, 'T');
      }
      double m0 = now_s();
      int moves = mode == MOVED || mode == MOVED_FIFO;
      if (mode == MOVED_FIFO) fifo(1);
      if (moves) pin(0);
      pages += scan(&s, mode != READ_ONLY, &times[n]);
      if (moves) {
        pin(1);
        if (mode == MOVED_FIFO) fifo(0);
        moveTimes[n] = now_s() - m0 - times[n];
      }
      if (mode == STOPPED) kill(child, SIGCONT);
      if (n + 1 < maxScans) n++;
    }
    double perMs = (double)(atomic_load(&sh->units) - u0) / ((now_s() - t0) * 1e3);
    if (mode == NONE) {
      if (basePerMs == 0) basePerMs = perMs;
      printf("scan_running_%s_work %.0f units/ms  # the child alone (after the first pass)\n",
             m == 0 ? "first" : "last", perMs);
      continue;
    }
    double p50 = pct(times, n, 50) * 1e3, p90 = pct(times, n, 90) * 1e3;
    printf("scan_running_%s %.3f ms  # p90 %.3f ms, %d scans of %zu MiB, %.0f pages each, the "
           "child's work %.1f %% of alone\n",
           mode_names[mode], p50, p90, n, mib, n ? (double)pages / n : 0.0,
           basePerMs > 0 ? 100.0 * perMs / basePerMs : 0.0);
    if (mode == MOVED || mode == MOVED_FIFO)
      printf("scan_running_%s_move %.3f ms  # p90 %.3f ms: moving the scanning thread to the child's "
             "CPU and back, beside the scan\n",
             mode_names[mode], pct(moveTimes, n, 50) * 1e3, pct(moveTimes, n, 90) * 1e3);
    fflush(stdout);
  }
  kill(child, SIGKILL);
  waitpid(child, 0, 0);
  return 0;
}
