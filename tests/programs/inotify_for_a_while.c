/* inotify_for_a_while: counts steps over a buffer it keeps writing, and holds an inotify fd with an event queued unread (which cryo refuses) only in the middle steps, so that a periodic checkpointer sees checkpoints succeed, fail, then succeed again while the task runs unharmed. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/inotify.h>

#include "prog_common.h"

#define STEPS 30
#define STEP_MS 60
#define WATCH_FROM 8
#define WATCH_UNTIL 14
#define BUF_PAGES 2048

int main(void) {
  uint64_t* buf = calloc(BUF_PAGES * 512, sizeof *buf);
  if (!buf) prog_die("calloc");
  uint64_t sum = PROG_HASH_SEED;
  int in = -1;
  for (int step = 0; step < STEPS; step++) {
    if (step == WATCH_FROM) {
      in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (in < 0) prog_die("inotify_init1");
      if (inotify_add_watch(in, "/dev/null", IN_OPEN) < 0) prog_die("inotify_add_watch");
      int null = open("/dev/null", O_RDONLY | O_CLOEXEC); /* an event left unread */
      if (null < 0) prog_die("open /dev/null");
      close(null);
    }
    if (step == WATCH_UNTIL) {
      close(in);
      in = -1;
    }
    for (size_t p = 0; p < BUF_PAGES; p += 3) buf[p * 512 + (size_t)step % 512] += (uint64_t)step * p + 1;
    sum = prog_hash_words(sum, buf, BUF_PAGES * 512);
    prog_say("step %2d %s checksum %016llx\n", step, in >= 0 ? "watching" : "plain",
             (unsigned long long)sum);
    prog_sleep_ms(STEP_MS);
  }
  return 0;
}
