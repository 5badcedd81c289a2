/* inotify_watch: holds an inotify instance at fd 7 with an event queued unread (which cryo refuses) while it counts steps, so that a refused dump can be seen to leave it running unharmed; waits at the test gate (CRYO_TEST_GATE) before its last step. */
#define _GNU_SOURCE
#include <sys/inotify.h>

#include "prog_common.h"

#define STEPS 16
#define STEP_MS 110
#define WATCH_FD 7

int main(void) {
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in < 0) prog_die("inotify_init1");
  if (dup2(in, WATCH_FD) != WATCH_FD) prog_die("dup2");
  close(in);
  /* A watch that never fires: the root directory is never deleted. */
  if (inotify_add_watch(WATCH_FD, "/", IN_DELETE_SELF) < 0) prog_die("inotify_add_watch");
  /* And an event left unread: opening /dev/null while it is watched. */
  if (inotify_add_watch(WATCH_FD, "/dev/null", IN_OPEN) < 0) prog_die("inotify_add_watch");
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) prog_die("open /dev/null");
  close(null);
  prog_say("inotify_watch: watching / at fd %d\n", WATCH_FD);
  uint64_t sum = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    prog_sleep_ms(STEP_MS);
    prog_say("step %2d\n", step);
    sum = prog_hash_bytes(sum, &step, sizeof step);
  }
  prog_say("inotify_watch: final checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
