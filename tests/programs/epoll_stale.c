/* epoll_stale: an epoll instance (fd 8) whose watched eventfd was moved from fd 5 to fd 6 (dup, then close of fd 5): its interest list still names fd 5, a state cryo refuses to checkpoint; it counts steps meanwhile. */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "prog_common.h"

#define STEPS 16
#define STEP_MS 110
#define WATCHED_FD 5
#define MOVED_FD 6
#define EPOLL_FD 8

int main(void) {
  int e = eventfd(0, EFD_NONBLOCK);
  int ep = epoll_create1(0);
  if (e < 0 || ep < 0) prog_die("eventfd/epoll_create1");
  if (dup2(e, WATCHED_FD) != WATCHED_FD || dup2(ep, EPOLL_FD) != EPOLL_FD) prog_die("dup2");
  close(e);
  close(ep);
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = 0xE5;
  if (epoll_ctl(EPOLL_FD, EPOLL_CTL_ADD, WATCHED_FD, &ev) != 0) prog_die("epoll_ctl");
  if (dup2(WATCHED_FD, MOVED_FD) != MOVED_FD) prog_die("dup2 moved");
  close(WATCHED_FD);
  prog_say("epoll_stale: epoll fd %d watches fd %d, now at fd %d\n", EPOLL_FD, WATCHED_FD,
           MOVED_FD);
  uint64_t sum = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    prog_sleep_ms(STEP_MS);
    uint64_t one = 1;
    if (write(MOVED_FD, &one, sizeof one) != (ssize_t)sizeof one) prog_die("write eventfd");
    struct epoll_event got;
    int n = epoll_wait(EPOLL_FD, &got, 1, 0);
    uint64_t c = 0;
    if (read(MOVED_FD, &c, sizeof c) != (ssize_t)sizeof c) prog_die("read eventfd");
    prog_say("step %2d epoll saw %d event%s, data %llx\n", step, n, n == 1 ? "" : "s",
             n == 1 ? (unsigned long long)got.data.u64 : 0ull);
    sum = prog_hash_bytes(sum, &step, sizeof step);
  }
  prog_say("epoll_stale: final checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
