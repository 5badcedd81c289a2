/* epoll_stale: an epoll instance (fd 8) with stale entries: an eventfd added under fd 5, then
 * moved to fd 6 (dup, close of fd 5), and a pipe read end that now holds fd 5, added under it
 * too (two entries of fd 5). Each step makes both ready and prints what epoll reports. With
 * --in-child the eventfd is handed to a child and the parent closes its copies: the entry's file
 * is then held only by another process (cryo refuses that). Waits at the test gate (CRYO_TEST_GATE)
 * before its last step. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#include "prog_common.h"

#define STEPS 16
#define STEP_MS 110
#define WATCHED_FD 5
#define MOVED_FD 6
#define EPOLL_FD 8

static void add(int fd, uint64_t data) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = data;
  if (epoll_ctl(EPOLL_FD, EPOLL_CTL_ADD, fd, &ev) != 0) prog_die("epoll_ctl");
}

/* Both sources made ready, then what epoll reports (sorted by data), then both drained. */
static void step_once(int step, int eventfd_at, int pipe_w, uint64_t* sum) {
  uint64_t one = 1;
  if (eventfd_at >= 0 && write(eventfd_at, &one, sizeof one) != (ssize_t)sizeof one)
    prog_die("write eventfd");
  if (write(pipe_w, "p", 1) != 1) prog_die("write pipe");
  struct epoll_event got[4];
  int n = epoll_wait(EPOLL_FD, got, 4, 0);
  uint64_t a = n > 0 ? got[0].data.u64 : 0, b = n > 1 ? got[1].data.u64 : 0;
  if (a > b) { uint64_t t = a; a = b; b = t; }
  uint64_t c = 0;
  char ch;
  if (eventfd_at >= 0 && read(eventfd_at, &c, sizeof c) != (ssize_t)sizeof c) prog_die("read eventfd");
  if (read(WATCHED_FD, &ch, 1) != 1) prog_die("read pipe");
  prog_say("step %2d epoll saw %d event%s, data %llx %llx\n", step, n, n == 1 ? "" : "s",
           (unsigned long long)a, (unsigned long long)b);
  *sum = prog_hash_bytes(*sum, &step, sizeof step);
}

int main(int argc, char** argv) {
  int in_child = argc > 1 && strcmp(argv[1], "--in-child") == 0;
  int e = eventfd(0, EFD_NONBLOCK);
  int ep = epoll_create1(0);
  if (e < 0 || ep < 0) prog_die("eventfd/epoll_create1");
  if (dup2(e, WATCHED_FD) != WATCHED_FD || dup2(ep, EPOLL_FD) != EPOLL_FD) prog_die("dup2");
  close(e);
  close(ep);
  add(WATCHED_FD, 0xE5);
  if (dup2(WATCHED_FD, MOVED_FD) != MOVED_FD) prog_die("dup2 moved");
  close(WATCHED_FD);
  int p[2];
  if (pipe(p) != 0 || dup2(p[0], WATCHED_FD) != WATCHED_FD) prog_die("pipe");
  close(p[0]);
  add(WATCHED_FD, 0x55);
  pid_t child = -1;
  int eventfd_at = MOVED_FD;
  if (in_child) {
    child = fork();
    if (child < 0) prog_die("fork");
    if (child == 0) {  /* holds the eventfd until its parent ends it (SIGTERM) */
      close(EPOLL_FD);
      for (;;) pause();
    }
    close(MOVED_FD);
    eventfd_at = -1;
  }
  prog_say("epoll_stale: epoll fd %d watches fd %d twice (an eventfd %s, a pipe at fd %d now)\n",
           EPOLL_FD, WATCHED_FD, in_child ? "held by a child" : "now at fd 6", WATCHED_FD);
  uint64_t sum = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    prog_sleep_ms(STEP_MS);
    step_once(step, eventfd_at, p[1], &sum);
  }
  if (child > 0) {
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
  }
  prog_say("epoll_stale: final checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
