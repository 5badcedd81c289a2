/* demo_task: the task of scripts/demo.sh.
 *
 *   demo_task LOGFILE
 *
 * Counts up from 0, appending one line "counter N" to LOGFILE every 200 ms. The counter lives
 * only in the task's memory: after a checkpoint and a restore it goes on from where it was.
 * The log is opened for each line (append mode), so the task holds no file open between lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s LOGFILE\n", argv[0]);
    return 2;
  }
  const char* log = argv[1];
  for (unsigned long counter = 0;; ++counter) {
    char line[64];
    int n = snprintf(line, sizeof line, "counter %lu\n", counter);
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ssize_t w = write(fd, line, (size_t)n);
      (void)w;
      close(fd);
    }
    struct timespec nap = {0, 200 * 1000 * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, &nap) == EINTR) {
    }
  }
}
