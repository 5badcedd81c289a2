/* cow_tree: private anonymous memory that a process and its forked descendants still share
 * copy-on-write, checked by each through the kernel's own count. main fills a 256-page
 * buffer (a mapping of its own, no huge pages) with a pattern and forks `child`, which writes
 * 10 of its pages and forks `grandchild`, which writes 3 of those 10; then main writes 5
 * others. At the test gate all three hold still; after it each prints, in turn (main, child,
 * grandchild), how many of the buffer's pages it shares with another process
 * (Shared_Clean + Shared_Dirty of the mapping in /proc/self/smaps: 241, 253 and 253 when
 * the sharing is intact; 0 when each has copies of its own) and a checksum of its buffer. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include "prog_common.h"

#define PAGES 256
#define PAGE 4096

static unsigned char* g_buf;

static void write_page(int page, int value) { memset(g_buf + (size_t)page * PAGE, value, PAGE); }

/* Pages of the buffer's mapping that are shared, from /proc/self/smaps. */
static long shared_pages(void) {
  FILE* f = fopen("/proc/self/smaps", "r");
  if (!f) prog_die("open smaps");
  char line[512];
  int in = 0;
  long kb = 0;
  unsigned long want = (unsigned long)g_buf;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    long v;
    if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      in = s <= want && want < e;
      continue;
    }
    if (in && (sscanf(line, "Shared_Clean: %ld kB", &v) == 1 ||
               sscanf(line, "Shared_Dirty: %ld kB", &v) == 1))
      kb += v;
  }
  fclose(f);
  return kb / 4;
}

static void report(const char* who) {
  uint64_t sum = prog_hash_bytes(PROG_HASH_SEED, g_buf, (size_t)PAGES * PAGE);
  prog_say("%s: %ld of %d pages shared, checksum %016llx\n", who, shared_pages(), PAGES,
           (unsigned long long)sum);
}

static void wait_turn(int fd) {
  char c;
  prog_read_all(fd, &c, 1);
}

static void pass_turn(int fd) { prog_write_all(fd, "t", 1); }

int main(void) {
  /* A guard page on each side keeps the buffer a mapping of its own. */
  unsigned char* area = mmap(NULL, (PAGES + 2) * PAGE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) prog_die("mmap");
  if (mprotect(area, PAGE, PROT_NONE) != 0 ||
      mprotect(area + (PAGES + 1) * PAGE, PAGE, PROT_NONE) != 0)
    prog_die("mprotect");
  g_buf = area + PAGE;
  madvise(g_buf, (size_t)PAGES * PAGE, MADV_NOHUGEPAGE);
  for (int p = 0; p < PAGES; p++) write_page(p, 1 + p % 200);

  int to_child[2], to_grandchild[2], ready[2];
  if (pipe(to_child) != 0 || pipe(to_grandchild) != 0 || pipe(ready) != 0) prog_die("pipe");
  pid_t child = fork();
  if (child < 0) prog_die("fork");
  if (child == 0) {
    for (int p = 10; p < 20; p++) write_page(p, 0xc0 + p);
    pid_t gc = fork();
    if (gc < 0) prog_die("fork");
    if (gc == 0) {
      for (int p = 12; p < 15; p++) write_page(p, 0xe0 + p);
      pass_turn(ready[1]);
      wait_turn(to_grandchild[0]);
      report("grandchild");
      _exit(0);
    }
    wait_turn(to_child[0]);
    report("child");
    pass_turn(to_grandchild[1]);
    if (waitpid(gc, NULL, 0) != gc) prog_die("waitpid grandchild");
    _exit(0);
  }
  wait_turn(ready[0]);  /* the grandchild exists and has written its pages */
  for (int p = 100; p < 105; p++) write_page(p, 0xa0 + p);
  prog_say("ready\n");
  prog_gate();
  report("main");
  pass_turn(to_child[1]);
  if (waitpid(child, NULL, 0) != child) prog_die("waitpid child");
  prog_say("done\n");
  return 0;
}
