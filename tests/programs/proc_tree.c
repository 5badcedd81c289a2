/* proc_tree: a parent and three children talking through pipes and a shared anonymous mapping: the parent hands each child a step token through a pipe (one token queued most of the time), each child computes over its own memory, publishes its result in the shared mapping and answers through its own pipe; the parent checks the shared mapping against the answers. One child leads a session, one a process group, and a fourth child has exited and stays a zombie until the parent reaps it at the end. With --inotify-child the last child also holds an inotify fd with an event queued unread (which cryo refuses). */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "prog_common.h"

#define CHILDREN 3
#define STEPS 16
#define STEP_MS 100
#define PRIVATE_WORDS ((2u << 20) / 8)
#define SLOT_WORDS 4096 /* 32 KiB of the shared mapping per child */

struct answer {
  int32_t step;
  int32_t flags;    /* bit 0: leads its session, bit 1: leads its process group */
  uint64_t result;  /* what it wrote into its slot of the shared mapping */
  uint64_t seen;    /* the first word of the previous child's slot, as this child saw it */
};

static int g_inotify_child = 0; /* --inotify-child: the last child holds an inotify fd */

static void child_main(int index, int work, int back, uint64_t* board) {
  if (index == 0 && setsid() < 0) prog_die("setsid");
  if (index == CHILDREN - 1 && g_inotify_child) {
    int in = inotify_init1(IN_CLOEXEC);
    if (in < 0 || inotify_add_watch(in, "/dev/null", IN_OPEN) < 0) prog_die("inotify");
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC); /* an event left unread */
    if (null < 0) prog_die("open /dev/null");
    close(null);
  }
  if (index == 1 && setpgid(0, 0) != 0) prog_die("setpgid");
  uint64_t* mem = malloc(PRIVATE_WORDS * 8);
  if (!mem) prog_die("malloc");
  uint64_t rng = 0xC0FFEEull + (uint64_t)index;
  for (size_t i = 0; i < PRIVATE_WORDS; i++) mem[i] = prog_rand(&rng);
  for (;;) {
    prog_sleep_ms(STEP_MS); /* the next token waits in the pipe meanwhile */
    int32_t step;
    prog_read_all(work, &step, sizeof step);
    if (step < 0) break;
    uint64_t h = PROG_HASH_SEED;
    for (unsigned k = 0; k < 200; k++) {
      uint64_t r = prog_rand(&rng);
      size_t idx = (size_t)(r % PRIVATE_WORDS);
      mem[idx] ^= r + (uint64_t)step;
      h = prog_hash_words(h, &mem[idx], 1);
    }
    uint64_t* slot = board + (size_t)index * SLOT_WORDS;
    for (size_t i = 0; i < SLOT_WORDS; i++) slot[i] = h + i * (uint64_t)(step + 1);
    struct answer a;
    memset(&a, 0, sizeof a);
    a.step = step;
    a.flags = (getsid(0) == getpid() ? 1 : 0) | (getpgid(0) == getpid() ? 2 : 0);
    a.result = h;
    a.seen = board[(size_t)((index + CHILDREN - 1) % CHILDREN) * SLOT_WORDS];
    prog_write_all(back, &a, sizeof a);
  }
  uint64_t sum = prog_hash_words(PROG_HASH_SEED, mem, PRIVATE_WORDS);
  prog_write_all(back, &sum, sizeof sum);
  _exit(10 + index);
}

int main(int argc, char** argv) {
  g_inotify_child = argc > 1 && strcmp(argv[1], "--inotify-child") == 0;
  uint64_t* board = mmap(NULL, (size_t)CHILDREN * SLOT_WORDS * 8, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (board == MAP_FAILED) prog_die("mmap shared");
  pid_t zombie = fork();
  if (zombie < 0) prog_die("fork");
  if (zombie == 0) _exit(7);
  int work[CHILDREN], back[CHILDREN];
  pid_t kids[CHILDREN];
  for (int i = 0; i < CHILDREN; i++) {
    int w[2], b[2];
    if (pipe(w) != 0 || pipe(b) != 0) prog_die("pipe");
    kids[i] = fork();
    if (kids[i] < 0) prog_die("fork");
    if (kids[i] == 0) {
      close(w[1]);
      close(b[0]);
      for (int j = 0; j < i; j++) {
        close(work[j]);
        close(back[j]);
      }
      child_main(i, w[0], b[1], board);
    }
    close(w[0]);
    close(b[1]);
    work[i] = w[1];
    back[i] = b[0];
  }
  for (int i = 0; i < CHILDREN; i++) {
    int32_t first = 0;
    prog_write_all(work[i], &first, sizeof first);
  }
  uint64_t total = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    struct answer a[CHILDREN];
    int board_ok = 1;
    for (int i = 0; i < CHILDREN; i++) {
      prog_read_all(back[i], &a[i], sizeof a[i]);
      if (a[i].step != step) prog_die("answer for the wrong step");
      /* The child's slot must hold what it reported (the mapping is shared). Checked before the
         child gets its next token, after which it may rewrite the slot. */
      const uint64_t* slot = board + (size_t)i * SLOT_WORDS;
      for (size_t k = 0; k < SLOT_WORDS; k++)
        if (slot[k] != a[i].result + k * (uint64_t)(step + 1)) board_ok = 0;
      total = prog_hash_words(total, &a[i].result, 1);
      /* Queue the next token at once: it waits in the pipe while the child sleeps. */
      int32_t next = step + 1 < STEPS ? step + 1 : -1;
      prog_write_all(work[i], &next, sizeof next);
    }
    prog_say("step %2d: %016llx %016llx %016llx flags %d%d%d board %s\n", step,
             (unsigned long long)a[0].result, (unsigned long long)a[1].result,
             (unsigned long long)a[2].result, a[0].flags, a[1].flags, a[2].flags,
             board_ok ? "shared" : "NOT SHARED");
  }
  for (int i = 0; i < CHILDREN; i++) {
    uint64_t sum;
    prog_read_all(back[i], &sum, sizeof sum);
    int st;
    if (waitpid(kids[i], &st, 0) != kids[i]) prog_die("waitpid child");
    prog_say("child %d: memory %016llx, exit %d\n", i, (unsigned long long)sum,
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  }
  int zst;
  if (waitpid(zombie, &zst, 0) != zombie) prog_die("waitpid zombie");
  prog_say("zombie: exit %d\n", WIFEXITED(zst) ? WEXITSTATUS(zst) : -1);
  prog_say("total %016llx\n", (unsigned long long)total);
  return 0;
}
