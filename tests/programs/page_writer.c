/* page_writer: writes exactly the pages it is told to, on commands read from stdin, one per
 * line, and answers each with one line on stdout. Used to check what a dirty-page tracker
 * reports. Regions are numbered: 0 is a populated anonymous region, 1 an anonymous region
 * never touched; the commands that map memory answer the number of the new region.
 *
 *   write R FIRST K STRIDE   add to one byte of K pages: FIRST, FIRST+STRIDE, ...
 *   kwrite R FIRST K STRIDE  the same pages written by the kernel (read() from a pipe)
 *   read R FIRST K           read one byte of pages FIRST..FIRST+K-1
 *   dontneed R FIRST K       MADV_DONTNEED pages FIRST..FIRST+K-1
 *   dontneed2m R             MADV_DONTNEED the first 2 MiB-aligned 2 MiB of R  -> ok ADDR
 *   mmap PAGES K             new anonymous region, pages 0..K-1 written   -> ok R ADDR
 *   filemap PATH PAGES       new private read-write mapping of PATH       -> ok R ADDR
 *   sbrk PAGES               grow the heap, every new page written        -> ok R START END
 *   mremap R                 move R elsewhere (MREMAP_FIXED)              -> ok ADDR
 *   munmap R                 unmap R
 *   thread                   start a thread that writes its stack, then waits -> ok LO HI
 *   stack K                  write 4 pages of main's frame (the top of the [stack] mapping),
 *                            then K pages deeper: the mapping grows past where it ended
 *                                                                  -> ok FRAME_ADDR (4 pages)
 *   sum                      checksum of every region                     -> sum HEX
 *   exec                     execute this program again (answers "ready ..." again)
 *   nop                      nothing
 *   quit                     exit 0
 * Any failure prints "error ..." and exits 99. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "prog_common.h"

#define PAGE 4096UL
#define MAX_REGIONS 64

struct region {
  unsigned char* addr;
  size_t pages;
  int live;
};

static struct region regions[MAX_REGIONS];
static int nregions;
static unsigned long counter = 1;
static char line[512];
static size_t line_len;
static char** saved_argv;
static int thread_started;
static volatile unsigned char* main_frame;  /* 4 pages of main's stack frame, page-aligned */
static int thread_pipe[2];

static void fail(const char* what) {
  prog_say("error %s (errno %d)\n", what, errno);
  _exit(99);
}

static int add_region(void* addr, size_t pages) {
  if (nregions == MAX_REGIONS) fail("too many regions");
  regions[nregions].addr = addr;
  regions[nregions].pages = pages;
  regions[nregions].live = 1;
  return nregions++;
}

static struct region* region(long r) {
  if (r < 0 || r >= nregions || !regions[r].live) fail("no such region");
  return &regions[r];
}

static unsigned char* page_of(struct region* g, unsigned long p) {
  if (p >= g->pages) fail("page out of range");
  return g->addr + p * PAGE;
}

/* Reads one command line (without the newline) with raw reads; 0 at end of input. */
static int read_line(void) {
  line_len = 0;
  for (;;) {
    char c;
    ssize_t n = read(0, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    if (c == '\n') break;
    if (line_len + 1 < sizeof line) line[line_len++] = c;
  }
  line[line_len] = 0;
  return 1;
}

static void* thread_main(void* arg) {
  (void)arg;
  volatile unsigned char buf[3 * PAGE];
  for (size_t i = 0; i < sizeof buf; i += 64) buf[i] = (unsigned char)i;
  pthread_attr_t at;
  void* lo;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &at) || pthread_attr_getstack(&at, &lo, &size))
    fail("pthread_getattr_np");
  prog_say("ok %lx %lx\n", (unsigned long)lo, (unsigned long)lo + size);
  char c;
  while (read(thread_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
  return (void*)(unsigned long)buf[64];
}

/* Writes one byte of each of `pages` 4 KiB frames below this one: the stack grows. */
static unsigned long deepen(long pages) {
  volatile unsigned char frame[PAGE];
  frame[0] = (unsigned char)pages;
  frame[PAGE - 1] = (unsigned char)(pages >> 8);
  return pages > 0 ? deepen(pages - 1) + frame[0] : frame[PAGE - 1];
}

static void say_ready(void) {
  prog_say("ready %lx %lx %lu %lu\n", (unsigned long)regions[0].addr,
           (unsigned long)regions[1].addr, (unsigned long)regions[0].pages,
           (unsigned long)regions[1].pages);
}

static void command(void) {
  char word[32], path[256];
  long r = 0, a = 0, b = 0, c = 0;
  if (sscanf(line, "%31s", word) != 1) fail("empty command");
  if (!strcmp(word, "write") || !strcmp(word, "kwrite")) {
    if (sscanf(line, "%*s %ld %ld %ld %ld", &r, &a, &b, &c) != 4) fail("usage");
    struct region* g = region(r);
    for (long i = 0; i < b; i++) {
      unsigned char* p = page_of(g, (unsigned long)(a + i * c)) + (counter * 8) % PAGE;
      if (word[0] == 'k') {
        int fds[2];
        unsigned char v = (unsigned char)(*p + 1 + (counter & 0x7f));
        if (pipe(fds) || write(fds[1], &v, 1) != 1 || read(fds[0], p, 1) != 1) fail("kwrite");
        close(fds[0]);
        close(fds[1]);
      } else {
        *p += (unsigned char)(1 + (counter & 0x7f));
      }
      counter++;
    }
    prog_say("ok\n");
  } else if (!strcmp(word, "read")) {
    if (sscanf(line, "%*s %ld %ld %ld", &r, &a, &b) != 3) fail("usage");
    struct region* g = region(r);
    unsigned long s = 0;
    for (long i = 0; i < b; i++) s += *(volatile unsigned char*)page_of(g, (unsigned long)(a + i));
    prog_say("ok %lu\n", s);
  } else if (!strcmp(word, "dontneed")) {
    if (sscanf(line, "%*s %ld %ld %ld", &r, &a, &b) != 3) fail("usage");
    struct region* g = region(r);
    page_of(g, (unsigned long)(a + b - 1));
    if (madvise(page_of(g, (unsigned long)a), (size_t)b * PAGE, MADV_DONTNEED)) fail("madvise");
    prog_say("ok\n");
  } else if (!strcmp(word, "dontneed2m")) {
    if (sscanf(line, "%*s %ld", &r) != 1) fail("usage");
    struct region* g = region(r);
    unsigned long two = 2UL << 20;
    unsigned long s = ((unsigned long)g->addr + two - 1) & ~(two - 1);
    if (s + two > (unsigned long)g->addr + g->pages * PAGE) fail("region too small");
    if (madvise((void*)s, two, MADV_DONTNEED)) fail("madvise");
    prog_say("ok %lx\n", s);
  } else if (!strcmp(word, "mmap")) {
    if (sscanf(line, "%*s %ld %ld", &a, &b) != 2) fail("usage");
    unsigned char* m = mmap(0, (size_t)a * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) fail("mmap");
    for (long i = 0; i < b; i++) m[i * PAGE] = (unsigned char)(counter++ | 1);
    int id = add_region(m, (size_t)a);
    prog_say("ok %d %lx\n", id, (unsigned long)m);
  } else if (!strcmp(word, "filemap")) {
    if (sscanf(line, "%*s %255s %ld", path, &a) != 2) fail("usage");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open");
    unsigned char* m = mmap(0, (size_t)a * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) fail("mmap of the file");
    int id = add_region(m, (size_t)a);
    prog_say("ok %d %lx\n", id, (unsigned long)m);
  } else if (!strcmp(word, "sbrk")) {
    if (sscanf(line, "%*s %ld", &a) != 1) fail("usage");
    unsigned char* old = sbrk(0);
    unsigned long start = ((unsigned long)old + PAGE - 1) & ~(PAGE - 1);
    if (sbrk((intptr_t)(start - (unsigned long)old) + a * (intptr_t)PAGE) == (void*)-1) fail("sbrk");
    for (long i = 0; i < a; i++) ((unsigned char*)start)[i * PAGE] = (unsigned char)(counter++ | 1);
    int id = add_region((void*)start, (size_t)a);
    prog_say("ok %d %lx %lx\n", id, start, start + (unsigned long)a * PAGE);
  } else if (!strcmp(word, "mremap")) {
    if (sscanf(line, "%*s %ld", &r) != 1) fail("usage");
    struct region* g = region(r);
    size_t len = g->pages * PAGE;
    void* to = mmap(0, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (to == MAP_FAILED) fail("mmap");
    void* m = mremap(g->addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    if (m == MAP_FAILED) fail("mremap");
    g->addr = m;
    prog_say("ok %lx\n", (unsigned long)m);
  } else if (!strcmp(word, "munmap")) {
    if (sscanf(line, "%*s %ld", &r) != 1) fail("usage");
    struct region* g = region(r);
    if (munmap(g->addr, g->pages * PAGE)) fail("munmap");
    g->live = 0;
    prog_say("ok\n");
  } else if (!strcmp(word, "thread")) {
    pthread_t t;
    if (thread_started++) fail("one thread only");
    if (pipe(thread_pipe) || pthread_create(&t, 0, thread_main, 0)) fail("pthread_create");
    /* The thread answers. */
  } else if (!strcmp(word, "stack")) {
    if (sscanf(line, "%*s %ld", &a) != 1) fail("usage");
    for (int i = 0; i < 4; i++) main_frame[i * PAGE] += (unsigned char)(counter++ | 1);
    if (deepen(a) == (unsigned long)-1) fail("deepen");
    prog_say("ok %lx\n", (unsigned long)main_frame);
  } else if (!strcmp(word, "sum")) {
    uint64_t h = PROG_HASH_SEED;
    for (int i = 0; i < nregions; i++)
      if (regions[i].live)
        h = prog_hash_words(h, (const uint64_t*)regions[i].addr, regions[i].pages * PAGE / 8);
    prog_say("sum %016llx\n", (unsigned long long)h);
  } else if (!strcmp(word, "exec")) {
    execv("/proc/self/exe", saved_argv);
    fail("execv");
  } else if (!strcmp(word, "nop")) {
    prog_say("ok\n");
  } else if (!strcmp(word, "quit")) {
    _exit(0);
  } else {
    fail("unknown command");
  }
}

int main(int argc, char** argv) {
  saved_argv = argv;
  volatile unsigned char frame[5 * PAGE];
  main_frame = (volatile unsigned char*)(((unsigned long)frame + PAGE - 1) & ~(PAGE - 1));
  size_t pages_a = argc > 1 ? strtoul(argv[1], 0, 10) : 2048;
  size_t pages_b = argc > 2 ? strtoul(argv[2], 0, 10) : 256;
  unsigned char* a = mmap(0, pages_a * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char* b = mmap(0, pages_b * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED || b == MAP_FAILED) fail("mmap");
  /* No transparent huge pages: a page written is a 4 KiB page written. */
  madvise(a, pages_a * PAGE, MADV_NOHUGEPAGE);
  madvise(b, pages_b * PAGE, MADV_NOHUGEPAGE);
  uint64_t seed = 42;
  for (size_t i = 0; i < pages_a * PAGE / 8; i++) ((uint64_t*)a)[i] = prog_rand(&seed);
  add_region(a, pages_a);
  add_region(b, pages_b);
  say_ready();
  while (read_line()) command();
  return 0;
}
