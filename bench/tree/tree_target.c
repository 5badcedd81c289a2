/* tree_target: the process tree bench/tree/tree_bench.py checkpoints and restores.
 *
 *   tree_target [--dirty MIBPS] NPROC MIB READY_FD
 *
 * The root forks NPROC-1 children (NPROC processes in all, every child a direct child of the
 * root). Each process maps MIB MiB of private anonymous memory of its own and writes every page
 * with non-zero data that differs from word to word, page to page and process to process
 * (bench_pattern.h, pages numbered from index * pages). A child tells the root it is done with
 * a queued real-time signal (SIGRTMIN, sigqueue); no descriptor links the processes, so `cryo
 * run` can checkpoint the tree at any moment of its start. Once every process has filled its
 * memory the root writes "ready\n" on READY_FD. Errors before that are reported on READY_FD as
 * "error: ...\n" (a child that dies first is seen as SIGCHLD; the root kills the children it
 * made and exits with status 2).
 *
 * Then every process loops: every 5 ms it bumps the counter word (word 0) of the same 8 pages
 * of its memory (spread over it: so without --dirty a process dirties only those 8 pages between
 * two checkpoints), and with --dirty MIBPS it also bumps the counter word of MIBPS MiB worth of
 * pages per second (fractions carry over; the pages are visited with a stride that is coprime
 * with the page count, so the writes are scattered and every page is visited in turn). A tick
 * that comes late (the task was frozen, or restored much later) writes for at most 50 ms, so a
 * restore is not followed by a burst. A child whose parent is gone (the root was killed) exits.
 * The processes never exit by themselves otherwise; the benchmark kills them.
 *
 * READY_FD may be 1 (standard output, as under `cryo run`); any other fd above 2 is closed in
 * the children right after the fork and in the root after "ready", so that nothing outside
 * the tree stays open in it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../bench_pattern.h"

#define MAX_PROCS 4096

static pid_t g_children[MAX_PROCS];
static unsigned g_nchildren;

static void kill_children(void) {
  for (unsigned i = 0; i < g_nchildren; ++i) kill(g_children[i], SIGKILL);
}

static void fail_on(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail_on(int fd, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0 && fd >= 0) {
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    ssize_t w = write(fd, buf, (size_t)n);
    (void)w;
  }
  kill_children();
  _exit(2);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* Maps and fills this process's memory; returns it, or NULL with errno set. */
static uint64_t* fill(unsigned index, uint64_t pages) {
  void* p = mmap(NULL, pages * BENCH_PAGE_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  uint64_t* mem = p;
  uint64_t base = (uint64_t)index * pages;
  for (uint64_t page = 0; page < pages; ++page)
    for (uint64_t w = 0; w < BENCH_WORDS_PER_PAGE; ++w)
      mem[page * BENCH_WORDS_PER_PAGE + w] = bench_word(base + page, w);
  return mem;
}

/* The loop every process runs once its memory is filled. */
static void work(uint64_t* mem, uint64_t pages, double dirty_mibps, pid_t parent) {
  uint64_t cursor = 0;
  uint64_t stride = 7919 % pages;
  if (stride == 0) stride = 1;
  while (gcd(stride, pages) != 1) ++stride;
  double pages_per_s = dirty_mibps * (1048576.0 / BENCH_PAGE_SIZE);
  double owed = 0;
  double last = now_s();
  for (;;) {
    for (uint64_t k = 0; k < 8; ++k) mem[(k * pages / 8) * BENCH_WORDS_PER_PAGE] += 1;
    if (pages_per_s > 0) {
      double t = now_s();
      double dt = t - last;
      last = t;
      if (dt > 0.05) dt = 0.05;
      owed += pages_per_s * dt;
      while (owed >= 1.0) {
        mem[cursor * BENCH_WORDS_PER_PAGE] += 1;
        cursor = (cursor + stride) % pages;
        owed -= 1.0;
      }
    }
    struct timespec nap = {0, 5 * 1000 * 1000};
    while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
    }
    if (parent > 0 && getppid() != parent) _exit(0);
  }
}

static void usage(const char* argv0) {
  fprintf(stderr, "usage: %s [--dirty MIBPS] NPROC MIB READY_FD\n", argv0);
  exit(2);
}

int main(int argc, char** argv) {
  double dirty = 0;
  int i = 1;
  if (i < argc && strcmp(argv[i], "--dirty") == 0) {
    if (i + 1 >= argc) usage(argv[0]);
    char* end;
    dirty = strtod(argv[i + 1], &end);
    if (*end || dirty < 0) usage(argv[0]);
    i += 2;
  }
  if (argc - i != 3) usage(argv[0]);
  unsigned long nproc = strtoul(argv[i], NULL, 10);
  unsigned long mib = strtoul(argv[i + 1], NULL, 10);
  int ready = atoi(argv[i + 2]);
  if (ready < 0) usage(argv[0]);
  if (nproc == 0 || nproc > MAX_PROCS || mib == 0)
    fail_on(ready, "error: bad arguments: NPROC %s (1..%d), MIB %s\n", argv[i], MAX_PROCS,
            argv[i + 1]);
  uint64_t pages = ((uint64_t)mib << 20) / BENCH_PAGE_SIZE;

  /* The children report with SIGRTMIN; SIGCHLD says one died first. Both are blocked in the
   * root from before the first fork, so none is lost, and unblocked in every child. */
  sigset_t sync, old;
  sigemptyset(&sync);
  sigaddset(&sync, SIGRTMIN);
  sigaddset(&sync, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &sync, &old) != 0)
    fail_on(ready, "error: sigprocmask: %s\n", strerror(errno));
  pid_t root = getpid();
  for (unsigned index = 1; index < nproc; ++index) {
    pid_t c = fork();
    if (c < 0) fail_on(ready, "error: fork of child %u: %s\n", index, strerror(errno));
    if (c == 0) {
      sigprocmask(SIG_SETMASK, &old, NULL);
      if (ready > 2) close(ready);
      g_nchildren = 0;
      uint64_t* mem = fill(index, pages);
      if (!mem) {
        fprintf(stderr, "tree_target child %u: mmap of %lu MiB: %s\n", index, mib,
                strerror(errno));
        _exit(2);
      }
      union sigval v = {.sival_int = (int)index};
      if (sigqueue(root, SIGRTMIN, v) != 0) _exit(3);
      work(mem, pages, dirty, root);
    }
    g_children[g_nchildren++] = c;
  }
  uint64_t* mem = fill(0, pages);
  if (!mem) fail_on(ready, "error: mmap of %lu MiB: %s\n", mib, strerror(errno));
  for (unsigned done = 0; done + 1 < nproc;) {
    siginfo_t si;
    int sig = sigwaitinfo(&sync, &si);
    if (sig < 0 && errno == EINTR) continue;
    if (sig < 0) fail_on(ready, "error: sigwaitinfo: %s\n", strerror(errno));
    if (sig == SIGCHLD)
      fail_on(ready, "error: child pid %d ended before filling its memory (%u of %lu ready)\n",
              (int)si.si_pid, done, nproc - 1);
    ++done;
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (write(ready, "ready\n", 6) != 6) {
    kill_children();
    _exit(3);
  }
  if (ready > 2) close(ready);
  work(mem, pages, dirty, 0);
  return 0;
}
