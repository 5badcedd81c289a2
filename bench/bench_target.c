/* bench_target: the process cryo_bench checkpoints and restores.
 *
 *   bench_target MIB THREADS READY_FD
 *
 * Allocates MIB MiB of private anonymous memory, writes every page with non-zero, varied data
 * (bench_pattern.h), starts THREADS-1 more threads (THREADS in all) that share that memory,
 * reports "ready ADDR BYTES\n" on READY_FD and closes it. Then every thread loops: it bumps the
 * counter word of a few pages of its own slice and sleeps 5 ms. The process never exits by
 * itself; cryo_bench kills it. Errors before "ready" are reported on READY_FD as
 * "error: ...\n". */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench_pattern.h"

static uint64_t* g_mem;
static uint64_t g_pages;
static unsigned g_threads;
static pthread_barrier_t g_started;

static void fail_on(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail_on(int fd, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) {
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    ssize_t w = write(fd, buf, (size_t)n);
    (void)w;
  }
  _exit(2);
}

/* The loop every thread runs: light work on its slice of the shared memory, then a sleep. */
static void work(unsigned index) {
  uint64_t first = g_pages * index / g_threads;
  uint64_t count = g_pages * (index + 1) / g_threads - first;
  uint64_t cursor = 0;
  struct timespec nap = {0, 5 * 1000 * 1000};
  for (;;) {
    for (int k = 0; k < 8 && count > 0; ++k) {
      uint64_t page = first + (cursor++ % count);
      g_mem[page * BENCH_WORDS_PER_PAGE] += 1;
    }
    while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
    }
    nap.tv_sec = 0;
    nap.tv_nsec = 5 * 1000 * 1000;
  }
}

static void* thread_main(void* arg) {
  unsigned index = (unsigned)(uintptr_t)arg;
  pthread_barrier_wait(&g_started);
  work(index);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MIB THREADS READY_FD\n", argv[0]);
    return 2;
  }
  unsigned long mib = strtoul(argv[1], NULL, 10);
  g_threads = (unsigned)strtoul(argv[2], NULL, 10);
  int ready = atoi(argv[3]);
  if (mib == 0 || g_threads == 0 || g_threads > 1024 || ready < 0)
    fail_on(ready >= 0 ? ready : 2, "error: bad arguments %s %s %s\n", argv[1], argv[2], argv[3]);

  size_t bytes = (size_t)mib << 20;
  void* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail_on(ready, "error: mmap of %lu MiB: %s\n", mib, strerror(errno));
  g_mem = p;
  g_pages = bytes / BENCH_PAGE_SIZE;
  for (uint64_t page = 0; page < g_pages; ++page)
    for (uint64_t w = 0; w < BENCH_WORDS_PER_PAGE; ++w)
      g_mem[page * BENCH_WORDS_PER_PAGE + w] = bench_word(page, w);

  if (pthread_barrier_init(&g_started, NULL, g_threads) != 0)
    fail_on(ready, "error: pthread_barrier_init failed\n");
  for (unsigned i = 1; i < g_threads; ++i) {
    pthread_t t;
    int e = pthread_create(&t, NULL, thread_main, (void*)(uintptr_t)i);
    if (e != 0) fail_on(ready, "error: pthread_create: %s\n", strerror(e));
  }
  pthread_barrier_wait(&g_started); /* every thread exists and is about to work */

  char line[128];
  int n = snprintf(line, sizeof line, "ready %p %zu\n", p, bytes);
  if (write(ready, line, (size_t)n) != n) _exit(3);
  close(ready);
  work(0);
  return 0;
}
