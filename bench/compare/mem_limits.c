/* mem_limits: this machine's own limits for moving memory, measured in the run that uses them: memcpy into touched and into fresh memory, and process_vm_readv out of another process. */
/*
 *   mem_limits SIZE_MIB      one line per figure: NAME VALUE UNIT  (details after '#')
 *
 * - memcpy_touched: memcpy of SIZE MiB into a buffer whose pages are already mapped (best of 3);
 * - memcpy_fresh: the same into freshly mapped memory, every page faulted in by the copy
 *   (best of 3), and what that costs per page over the touched copy (fresh_page_us);
 * - process_vm_readv: SIZE MiB read out of a forked child, 16 MiB per iovec, into touched
 *   memory (best of 3): what taking a task's memory out costs at least.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char* map_anon(size_t bytes) {
  void* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mem_limits: mmap");
    exit(1);
  }
  return p;
}

static void fill(char* p, size_t bytes) {
  for (size_t i = 0; i < bytes; i += 8) *(uint64_t*)(p + i) = i * 0x9e3779b97f4a7c15ull;
}

static double copy_s(char* dst, const char* src, size_t bytes) {
  double t = now_s();
  memcpy(dst, src, bytes);
  return now_s() - t;
}

static double best_fresh_s(const char* src, size_t bytes) {
  double best = 1e9;
  for (int i = 0; i < 3; i++) {
    char* dst = map_anon(bytes);
    double s = copy_s(dst, src, bytes);
    if (s < best) best = s;
    munmap(dst, bytes);
  }
  return best;
}

static double best_pvm_s(pid_t child, char* remote, char* dst, size_t bytes) {
  const size_t chunk = 16u << 20;
  double best = 1e9;
  for (int rep = 0; rep < 3; rep++) {
    double t = now_s();
    for (size_t off = 0; off < bytes; off += chunk) {
      size_t n = bytes - off < chunk ? bytes - off : chunk;
      struct iovec l = {dst + off, n}, r = {remote + off, n};
      if (process_vm_readv(child, &l, 1, &r, 1, 0) != (ssize_t)n) {
        perror("mem_limits: process_vm_readv");
        return -1;
      }
    }
    double s = now_s() - t;
    if (s < best) best = s;
  }
  return best;
}

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 0;
  if (mib == 0) {
    fprintf(stderr, "usage: mem_limits SIZE_MIB\n");
    return 2;
  }
  size_t bytes = mib << 20, pages = bytes / 4096;
  char* src = map_anon(bytes);
  char* dst = map_anon(bytes);
  fill(src, bytes);
  memset(dst, 1, bytes);
  double touched = 1e9;
  for (int i = 0; i < 3; i++) {
    double s = copy_s(dst, src, bytes);
    if (s < touched) touched = s;
  }
  printf("memcpy_touched %.2f GB/s  # %zu MiB, best of 3\n", bytes / touched / 1e9, mib);
  double fresh = best_fresh_s(src, bytes);
  printf("memcpy_fresh %.2f GB/s  # %zu MiB into freshly mapped memory, best of 3\n",
         bytes / fresh / 1e9, mib);
  printf("fresh_page_us %.2f us  # what the first touch of a page adds to its copy\n",
         (fresh - touched) * 1e6 / (double)pages);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  double pvm = best_pvm_s(child, src, dst, bytes);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  if (pvm < 0) return 1;
  printf("process_vm_readv %.2f GB/s  # %zu MiB out of another process, best of 3\n",
         bytes / pvm / 1e9, mib);
  return 0;
}
