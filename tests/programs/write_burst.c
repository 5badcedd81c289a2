/* write_burst: rewrites a whole buffer at full speed for a while (as a task filling or rebuilding its memory does), then goes calm, and at the end verifies the buffer holds what the last pass wrote.
 *
 *   write_burst BURST_MS MIB CALM_MS [QUIET_MS]
 *
 * Maps MIB MiB of private anonymous memory and writes every page of it once. With QUIET_MS, it
 * then prints "filled" and sleeps QUIET_MS milliseconds (10 ms at a time, counting its naps).
 * Then it prints "bursting". For BURST_MS milliseconds it writes every page again and again, each pass a value
 * of its own in the page's first word (pass * 1000003 + page). Then it prints "calm after N
 * passes", and for CALM_MS milliseconds it only sleeps,
 * 10 ms at a time, counting its naps in one page. At the end it checks that every page holds
 * what pass N wrote and prints "verified N passes, M naps" or the first mismatch (exit 1). */
#include <sys/mman.h>

#include "prog_common.h"

#define PAGE 4096ul

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    prog_say("usage: write_burst BURST_MS MIB CALM_MS [QUIET_MS]\n");
    return 2;
  }
  long burst = strtol(argv[1], NULL, 10), mib = strtol(argv[2], NULL, 10);
  long calm = strtol(argv[3], NULL, 10), quiet = argc > 4 ? strtol(argv[4], NULL, 10) : -1;
  if (burst < 1 || mib < 1 || calm < 0 || (argc > 4 && quiet < 0)) {
    prog_say("write_burst: bad arguments\n");
    return 2;
  }
  size_t npages = (size_t)mib * (1ul << 20) / PAGE;
  unsigned char* buf = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) return 99;
  volatile uint64_t* naps = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (naps == MAP_FAILED) return 99;
  volatile uint64_t pass = 1;
  for (size_t p = 0; p < npages; p++) *(volatile uint64_t*)(buf + p * PAGE) = pass * 1000003u + p;
  if (quiet >= 0) {
    prog_say("filled\n");
    for (long slept = 0; slept < quiet; slept += 10) {
      prog_sleep_ms(10);
      ++*naps;
    }
  }
  prog_say("bursting\n");
  uint64_t end = now_ms() + (uint64_t)burst;
  while (now_ms() < end) {
    ++pass;
    for (size_t p = 0; p < npages; p++) *(volatile uint64_t*)(buf + p * PAGE) = pass * 1000003u + p;
  }
  prog_say("calm after %llu passes\n", (unsigned long long)pass);
  for (long slept = 0; slept < calm; slept += 10) {
    prog_sleep_ms(10);
    ++*naps;
  }
  for (size_t p = 0; p < npages; p++) {
    uint64_t want = pass * 1000003u + p, got = *(uint64_t*)(buf + p * PAGE);
    if (got != want) {
      prog_say("MISMATCH at page %zu: %llu, want %llu\n", p, (unsigned long long)got,
               (unsigned long long)want);
      return 1;
    }
  }
  prog_say("verified %llu passes, %llu naps\n", (unsigned long long)pass, (unsigned long long)*naps);
  return 0;
}
