/* vm_flags [MODE]: mappings with every mapping flag cryo restores, each on a mapping of its own
 * holding data: MAP_DROPPABLE, MADV_RANDOM, MADV_SEQUENTIAL, MADV_MERGEABLE (KSM), mlock,
 * mlock2(MLOCK_ONFAULT), mseal, MADV_GUARD_INSTALL guard pages, and the older advice (hugepage,
 * nohugepage, dontfork, dontdump, wipeonfork). Every step writes into them, probes the guard
 * pages (SIGSEGV expected) and the seal (munmap refused), and prints a checksum; it waits at
 * the test gate (CRYO_TEST_GATE) before its last step. MODE ksm_all: besides, the whole process
 * is made mergeable (prctl PR_SET_MEMORY_MERGE), which cryo refuses; prints "ready" first. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "prog_common.h"

#define STEPS 10
#define PAGE 4096UL

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif
#define SYS_MSEAL 462

struct region {
  const char* name;
  unsigned char* mem;
  size_t pages;
  int writable;
};

static struct region g_regions[16];
static int g_nregions;
static unsigned char* g_guarded;  /* 8 pages; pages 2, 3 and 6 are guard pages */
static unsigned char* g_sealed;   /* 2 pages, read-only and sealed */
static sigjmp_buf g_probe;

static unsigned char* map_anon(size_t pages, int extra) {
  void* p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | extra, -1, 0);
  if (p == MAP_FAILED) prog_die("mmap");
  return p;
}

static unsigned char* add_region(const char* name, size_t pages, int extra, int advice) {
  unsigned char* m = map_anon(pages, extra ? extra : MAP_PRIVATE);
  if (advice >= 0 && madvise(m, pages * PAGE, advice) != 0) prog_die(name);
  g_regions[g_nregions++] = (struct region){name, m, pages, 1};
  memset(m, g_nregions, pages * PAGE);
  return m;
}

static void on_segv(int sig) {
  (void)sig;
  siglongjmp(g_probe, 1);
}

/* 1 when reading `p` faults (a guard page). */
static int faults(volatile unsigned char* p) {
  if (sigsetjmp(g_probe, 1)) return 1;
  (void)*p;
  return 0;
}

static void setup(void) {
  add_region("droppable", 4, MAP_DROPPABLE, -1);
  add_region("random", 4, 0, MADV_RANDOM);
  add_region("sequential", 4, 0, MADV_SEQUENTIAL);
  add_region("mergeable", 4, 0, MADV_MERGEABLE);
  add_region("hugepage", 4, 0, MADV_HUGEPAGE);
  add_region("nohugepage", 4, 0, MADV_NOHUGEPAGE);
  add_region("dontfork", 4, 0, MADV_DONTFORK);
  add_region("dontdump", 4, 0, MADV_DONTDUMP);
  add_region("wipeonfork", 4, 0, MADV_WIPEONFORK);
  unsigned char* locked = add_region("locked", 4, 0, -1);
  if (mlock(locked, 4 * PAGE) != 0) prog_die("mlock");
  /* Lock on fault: only the first two pages are ever touched. */
  unsigned char* onfault = map_anon(8, MAP_PRIVATE);
  if (syscall(SYS_mlock2, onfault, 8 * PAGE, MLOCK_ONFAULT) != 0) prog_die("mlock2");
  g_regions[g_nregions++] = (struct region){"lock_onfault", onfault, 2, 1};
  g_guarded = map_anon(8, MAP_PRIVATE);
  memset(g_guarded, 0x5a, 8 * PAGE);
  if (madvise(g_guarded + 2 * PAGE, 2 * PAGE, MADV_GUARD_INSTALL) != 0 ||
      madvise(g_guarded + 6 * PAGE, PAGE, MADV_GUARD_INSTALL) != 0)
    prog_die("MADV_GUARD_INSTALL");
  g_sealed = map_anon(2, MAP_PRIVATE);
  memset(g_sealed, 0xa5, 2 * PAGE);
  if (mprotect(g_sealed, 2 * PAGE, PROT_READ) != 0) prog_die("mprotect");
  if (syscall(SYS_MSEAL, g_sealed, 2 * PAGE, 0) != 0) prog_die("mseal");
  struct sigaction sa = {0};
  sa.sa_handler = on_segv;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, NULL) != 0) prog_die("sigaction");
}

static uint64_t step_once(int step) {
  uint64_t h = PROG_HASH_SEED;
  for (int i = 0; i < g_nregions; i++) {
    struct region* r = &g_regions[i];
    for (size_t p = 0; p < r->pages; p++) r->mem[p * PAGE + (size_t)step * 8] = (unsigned char)(step + i);
    h = prog_hash_bytes(h, r->mem, r->pages * PAGE);
  }
  int guards = 0;
  for (int p = 0; p < 8; p++) {
    if (faults(g_guarded + p * PAGE)) {
      guards |= 1 << p;
    } else {
      g_guarded[p * PAGE + (size_t)step] = (unsigned char)step;
      h = prog_hash_bytes(h, g_guarded + p * PAGE, PAGE);
    }
  }
  h = prog_hash_bytes(h, g_sealed, 2 * PAGE);
  int sealed = munmap(g_sealed, PAGE) != 0 && errno == EPERM;
  prog_say("step %d hash %016llx guards %#x sealed %d\n", step, (unsigned long long)h, guards,
           sealed);
  return h;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  setup();
  if (strcmp(mode, "ksm_all") == 0 && prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) != 0)
    prog_die("PR_SET_MEMORY_MERGE");
  prog_say("ready\n");
  uint64_t sum = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    prog_sleep_ms(60);
    uint64_t h = step_once(step);
    sum = prog_hash_bytes(sum, &h, sizeof h);
  }
  prog_say("checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
