/* steady_writer: the task of realtime_bench.py: dirties memory at a steady rate in 1 ms slices and reports its work rate and worst slice lateness. */
/*
 *   steady_writer SIZE_MIB RATE_MIB_S SECONDS [WARMUP_S [catchup|skip]]
 *
 * Maps SIZE_MIB MiB of private anonymous memory, writes every page with non-zero data that
 * varies from word to word and page to page, prints "ready" and flushes. Then, for SECONDS
 * seconds, it runs 1 ms slices on a fixed schedule (slice k is due at ready + k ms): each slice
 * first writes one word into RATE_MIB_S/1000 MiB worth of pages at pseudo-random indices
 * (fractions carry over to the next slice, so the long-run rate is exact), then spends the
 * rest of the slice on a fixed unit of computation, counting the units done. A slice that
 * starts after its due time is late by the difference. After a stall (a frozen task), with
 * "catchup" (the default) the missed slices are run back to back, writes only, until the
 * schedule is caught up, so the task dirties RATE MiB per second of wall time however long it
 * was stopped; with "skip" they are dropped (no writes, no work) and the task goes on with
 * the slice due now.
 *
 * With STEADY_WRITER_TRACK_EVERY_MS=N in its environment, the task tracks its own writes the
 * way any page-granular tracker must at least do it: its memory is registered with its own
 * userfaultfd in async write-protect mode, and every N ms (at a slice's start, on its own CPU)
 * one PAGEMAP_SCAN reports and re-protects the pages written since. Nothing is copied: its work
 * rate against a run without tracking is the least a checkpointer that finds written pages by
 * write-protection can cost this task at that period (the first write to each page faults once
 * a period). It cannot run under cryo (a mapping takes one userfaultfd).
 *
 * Only the window from WARMUP_S seconds after "ready" (default 0) to the end counts: units,
 * slices and lateness are those of the window. At the end it prints
 *   units N            units of computation done in the window
 *   window_s X         length of the window (seconds)
 *   units_per_s X      N / window_s: the task's own work rate
 *   max_late_us N      the largest lateness of a slice in the window (microseconds)
 *   late_p99_us N      the 99th percentile of slice lateness in the window
 *   slices N           slices in the window (run or skipped)
 *   slices_skipped N   slices dropped after a stall ("skip" only)
 *   pages_written N    page writes in the window (with repeats)
 *   stalls N, stalls_300us N, stalls_1ms N   times in the window the task went 100 us (300 us,
 *                      1 ms) or more between two looks at the clock: it was kept from running
 *                      (a freeze, another thread on its CPU); it looks every microsecond or so
 *   stall_max_us N, stall_total_us N   the longest stall, and all stalls together
 *   cpu_share X        the task's CPU time in the window over its length: what others (a
 *                      checkpointer's work on the task's CPU, its freezes) left it
 *   minor_faults N     page faults in the window (write-protect faults under a tracker)
 *   track_scans N, track_scan_us X   self-tracking only: scans in the window, mean time of one
 *   window_start_unix X, window_end_unix X   the window in CLOCK_REALTIME seconds
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "scan_common.h"

#define PAGE 4096u
#define WORDS (PAGE / 8u)
#define SLICE_NS 1000000LL
#define HIST_BUCKETS 100000 /* lateness histogram, 10 us per bucket, last bucket open */
#define STALL_NS 100000LL /* a stall: the task did not run for this long (see below) */

static int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long minor_faults(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

static double real_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t next_rand(uint64_t* s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* The fixed unit of work: a short dependent floating-point chain (about a microsecond). */
static double unit_of_work(double seed) {
  double s = seed;
  for (int k = 0; k < 600; k++) s = s * 0.999999 + 1e-7 * k;
  return s;
}

static uint64_t fill_word(uint64_t page, uint64_t word) {
  uint64_t z = page * 0x9E3779B97F4A7C15ULL ^ (word + 1) * 0xC2B2AE3D27D4EB4FULL;
  z ^= z >> 31;
  return z | 1u;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: steady_writer SIZE_MIB RATE_MIB_S SECONDS [WARMUP_S [catchup|skip]]\n");
    return 2;
  }
  size_t mib = strtoul(argv[1], 0, 10);
  double rate = atof(argv[2]), seconds = atof(argv[3]);
  double warmup = argc > 4 ? atof(argv[4]) : 0;
  int skip = argc > 5 && strcmp(argv[5], "skip") == 0;
  if (mib == 0 || rate < 0 || seconds <= 0 || warmup < 0 || warmup >= seconds ||
      (argc > 5 && !skip && strcmp(argv[5], "catchup") != 0)) {
    fprintf(stderr, "steady_writer: bad arguments\n");
    return 2;
  }
  size_t bytes = mib << 20, pages = bytes / PAGE;
  uint64_t* mem = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("steady_writer: mmap");
    return 99;
  }
  for (size_t p = 0; p < pages; p++)
    for (size_t w = 0; w < WORDS; w++) mem[p * WORDS + w] = fill_word(p, w);
  uint32_t* hist = calloc(HIST_BUCKETS, sizeof *hist);
  if (!hist) return 99;
  const char* track_env = getenv("STEADY_WRITER_TRACK_EVERY_MS");
  long track_every = track_env ? strtol(track_env, 0, 10) : 0;
  struct scanner tracker = {-1, 0, 0, 0, 0};
  if (track_every > 0) {
    if (scan_protect("steady_writer", mem, bytes) < 0) return 99;
    tracker.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    tracker.vec_len = 1 << 16;
    tracker.vec = calloc(tracker.vec_len, sizeof *tracker.vec);
    tracker.start = (uint64_t)(uintptr_t)mem;
    tracker.end = tracker.start + bytes;
    if (tracker.pagemap < 0 || !tracker.vec) {
      perror("steady_writer: /proc/self/pagemap");
      return 99;
    }
  }
  long track_scans = 0;
  double track_scan_s = 0;
  printf("ready\n");
  fflush(stdout);

  const double pages_per_slice = rate * (1 << 20) / PAGE / 1000.0;
  const int64_t ready = mono_ns();
  const int64_t end = ready + (int64_t)(seconds * 1e9);
  const int64_t win_begin = ready + (int64_t)(warmup * 1e9);
  double win_begin_unix = 0, carry = 0, sink = 0.5;
  uint64_t rng = 0x853C49E6748FEA9BULL, stamp = 1;
  unsigned long long units = 0, slices = 0, skipped = 0, written = 0;
  int64_t max_late = 0, win_start_ns = -1, win_cpu_ns = 0;
  /* Stalls: times between two looks at the clock of 100 us or more (a look comes every unit of
   * work, about a microsecond, or after a slice's writes, some tens of microseconds): the task
   * was kept from running (a freeze, another thread on its CPU, a long fault). */
  int64_t last_run = mono_ns(), stall_max = 0, stall_ns = 0;
  unsigned long long stalls = 0, stalls_300us = 0, stalls_1ms = 0;
  long win_faults = 0;

  for (int64_t k = 0;; k++) {
    int64_t due = ready + k * SLICE_NS;
    if (due >= end) break;
    int64_t now = mono_ns();
    int in_window = due >= win_begin;
    if (in_window && win_start_ns < 0) {
      win_start_ns = due;
      win_begin_unix = real_s() - (now - due) / 1e9;
      win_cpu_ns = cpu_ns() - (now - due);  /* the task was due to run since `due` */
      win_faults = minor_faults();
    }
    int64_t late = now > due ? now - due : 0;
    if (in_window) {
      slices++;
      if (late > max_late) max_late = late;
      int64_t b = late / 10000;
      hist[b < HIST_BUCKETS ? b : HIST_BUCKETS - 1]++;
    }
    if (skip && late >= SLICE_NS) {
      /* Drop the slices missed entirely and run the one due now: the stall's lateness is the
       * late slice's, counted above; the dropped ones count as skipped. */
      int64_t missed = late / SLICE_NS;
      for (int64_t j = 1; j <= missed; j++) {
        int64_t d = due + j * SLICE_NS;
        if (d >= end) break;
        if (d < win_begin) continue;
        if (win_start_ns < 0) {
          win_start_ns = d;
          win_begin_unix = real_s() - (now - d) / 1e9;
          win_cpu_ns = cpu_ns() - (now - d);
          win_faults = minor_faults();
        }
        slices++;
        skipped++;
      }
      k += missed;
      due = ready + k * SLICE_NS;
      if (due >= end) break;
      in_window = due >= win_begin;
    }
    if (track_every > 0 && k % track_every == 0) {
      double sec;
      if (scan_sweep("steady_writer", &tracker, 1, &sec) < 0) return 99;
      if (in_window) {
        track_scans++;
        track_scan_s += sec;
      }
    }
    carry += pages_per_slice;
    size_t n = (size_t)carry;
    carry -= n;
    for (size_t i = 0; i < n; i++) {
      uint64_t r = next_rand(&rng);
      mem[(r % pages) * WORDS + ((r >> 40) % WORDS)] = ++stamp | 1u;
    }
    if (in_window) written += n;
    int64_t slice_end = due + SLICE_NS;
    for (;;) {
      int64_t t = mono_ns();
      if (in_window && t - last_run >= STALL_NS) {
        stalls++;
        stall_ns += t - last_run;
        if (t - last_run >= 300000) stalls_300us++;
        if (t - last_run >= 1000000) stalls_1ms++;
        if (t - last_run > stall_max) stall_max = t - last_run;
      }
      last_run = t;
      if (t >= slice_end) break;
      sink = unit_of_work(sink);
      if (in_window) units++;
    }
  }
  double win_end_unix = real_s();
  int64_t end_ns = mono_ns(), end_cpu = cpu_ns();
  long end_faults = minor_faults();
  double window = win_start_ns < 0 ? 0 : (end_ns - win_start_ns) / 1e9;
  unsigned long long seen = 0, p99 = 0;
  for (int b = 0; b < HIST_BUCKETS; b++) {
    seen += hist[b];
    if (slices && seen * 100 >= slices * 99) {
      p99 = (unsigned long long)b * 10;
      break;
    }
  }
  printf("units %llu\n", units);
  printf("window_s %.6f\n", window);
  printf("units_per_s %.1f\n", window > 0 ? units / window : 0.0);
  printf("max_late_us %lld\n", (long long)(max_late / 1000));
  printf("late_p99_us %llu\n", p99);
  printf("slices %llu\n", slices);
  printf("slices_skipped %llu\n", skipped);
  printf("pages_written %llu\n", written);
  printf("stalls %llu\nstalls_300us %llu\nstalls_1ms %llu\n", stalls, stalls_300us, stalls_1ms);
  printf("stall_max_us %lld\nstall_total_us %lld\n", (long long)(stall_max / 1000),
         (long long)(stall_ns / 1000));
  printf("cpu_share %.5f\n", window > 0 ? (end_cpu - win_cpu_ns) / 1e9 / window : 0.0);
  printf("minor_faults %ld\n", win_start_ns < 0 ? 0 : end_faults - win_faults);
  if (track_every > 0)
    printf("track_scans %ld\ntrack_scan_us %.1f\n", track_scans,
           track_scans ? track_scan_s / track_scans * 1e6 : 0.0);
  printf("window_start_unix %.6f\n", win_begin_unix);
  printf("window_end_unix %.6f\n", win_end_unix);
  if (sink == 12345.678) printf("sink\n"); /* keeps the computation alive */
  return 0;
}
