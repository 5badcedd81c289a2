/* demo_task: the task of scripts/demo.sh.
 *
 *   demo_task >> LOGFILE
 *
 * Counts up from 0, writing one line "counter N" to its standard output every 200 ms (one
 * write() per line, no buffering). The counter lives only in the task's memory: after a
 * checkpoint and a restore it goes on from where it was, and the restored task writes to the
 * same file, which cryo reopened at the saved offset. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  /* Only the standard streams: descriptors inherited from whatever started the task (a pipe
   * to a process outside it, say) are closed, as a daemon would. */
  syscall(SYS_close_range, 3u, ~0u, 0u);
  for (unsigned long counter = 0;; ++counter) {
    char line[64];
    int n = snprintf(line, sizeof line, "counter %lu\n", counter);
    ssize_t w = write(1, line, (size_t)n);
    (void)w;
    struct timespec nap = {0, 200 * 1000 * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, &nap) == EINTR) {
    }
  }
}
