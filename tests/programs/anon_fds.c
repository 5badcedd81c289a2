/* anon_fds: an eventfd whose counter is carried across steps, a semaphore eventfd, a periodic timerfd waited on through epoll and read, a one-shot timerfd whose expiration stays unread, a far-off absolute timerfd, a signalfd reading queued real-time signals (one pending most of the time), and an epoll instance watching the eventfd, timerfd, signalfd and a pipe with identifiers in its data fields. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "prog_common.h"

#define STEPS 18
#define SLEEP_MS 60
#define TIMER_PERIOD_MS 10
#define TICKS_PER_STEP 3

#define ID_EVENT 0xE7E7000000000001ull
#define ID_TIMER 0x7171000000000002ull
#define ID_SIGNAL 0x5151000000000003ull
#define ID_PIPE 0x9191000000000004ull
#define ID_TIMER_ALONE 0x7272000000000005ull

static int sig_fd_signal(void) { return SIGRTMIN + 1; }

static void add(int ep, int fd, uint64_t id) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = id;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) prog_die("epoll_ctl add");
}

/* Which of the fds other than the timerfd are ready right now, in a fixed order. */
static void report_ready(int step, int ep) {
  struct epoll_event evs[8];
  int n = epoll_wait(ep, evs, 8, 0);
  if (n < 0) prog_die("epoll_wait");
  int event = 0, sig = 0, pipe_ready = 0, other = 0;
  for (int i = 0; i < n; i++) {
    if (evs[i].data.u64 == ID_EVENT) event = 1;
    else if (evs[i].data.u64 == ID_SIGNAL) sig = 1;
    else if (evs[i].data.u64 == ID_PIPE) pipe_ready = 1;
    else if (evs[i].data.u64 != ID_TIMER) other = 1;
  }
  prog_say("step %2d ready:%s%s%s%s\n", step, event ? " eventfd" : "", sig ? " signalfd" : "",
           pipe_ready ? " pipe" : "", other ? " UNKNOWN-DATA" : "");
}

static uint64_t read_u64(int fd, const char* what) {
  uint64_t v;
  ssize_t r;
  do {
    r = read(fd, &v, sizeof v);
  } while (r < 0 && errno == EINTR);
  if (r != (ssize_t)sizeof v) prog_die(what);
  return v;
}

/* Drains what the periodic timerfd counted meanwhile, then waits for TICKS_PER_STEP fresh
   expirations: blocked in epoll_wait on an epoll instance that watches only the timerfd. */
static void wait_ticks(int step, int ep_alone, int tfd) {
  struct epoll_event ev;
  if (epoll_wait(ep_alone, &ev, 1, 0) == 1) (void)read_u64(tfd, "read timerfd (drain)");
  uint64_t total = 0;
  while (total < TICKS_PER_STEP) {
    int n = epoll_wait(ep_alone, &ev, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1) prog_die("epoll_wait timer");
    if (ev.data.u64 != ID_TIMER_ALONE) prog_die("epoll data of the timerfd changed");
    total += read_u64(tfd, "read timerfd");
  }
  prog_say("step %2d periodic timerfd: >=%d expirations\n", step, TICKS_PER_STEP);
}

int main(void) {
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  int once = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
  int far = timerfd_create(CLOCK_REALTIME, 0);
  if (efd < 0 || sem < 0 || tfd < 0 || once < 0 || far < 0) prog_die("eventfd/timerfd_create");

  struct itimerspec per = {{0, TIMER_PERIOD_MS * 1000000L}, {0, TIMER_PERIOD_MS * 1000000L}};
  if (timerfd_settime(tfd, 0, &per, NULL) != 0) prog_die("timerfd_settime periodic");
  struct itimerspec shot = {{0, 0}, {0, 20 * 1000000L}};
  if (timerfd_settime(once, 0, &shot, NULL) != 0) prog_die("timerfd_settime one-shot");
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec at = {{0, 0}, {now.tv_sec + 3600, 0}};
  if (timerfd_settime(far, TFD_TIMER_ABSTIME, &at, NULL) != 0) prog_die("timerfd_settime far");

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, sig_fd_signal());
  if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0) prog_die("sigprocmask");
  int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) prog_die("signalfd");

  int p[2];
  if (pipe2(p, O_NONBLOCK) != 0) prog_die("pipe2");

  int ep = epoll_create1(EPOLL_CLOEXEC);
  int ep_alone = epoll_create1(0);
  if (ep < 0 || ep_alone < 0) prog_die("epoll_create1");
  add(ep, efd, ID_EVENT);
  add(ep, tfd, ID_TIMER);
  add(ep, sfd, ID_SIGNAL);
  add(ep, p[0], ID_PIPE);
  add(ep_alone, tfd, ID_TIMER_ALONE);
  prog_say("anon_fds: start\n");

  uint64_t sum = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    unsigned char b = (unsigned char)(0x40 + step);
    prog_write_all(p[1], &b, 1);
    uint64_t add_value = (uint64_t)step + 1;
    if (write(efd, &add_value, sizeof add_value) != (ssize_t)sizeof add_value) prog_die("write eventfd");

    report_ready(step, ep);

    unsigned char got = 0;
    if (read(p[0], &got, 1) != 1) prog_die("read pipe");
    prog_say("step %2d pipe gave %c\n", step, got);

    if (step % 2 == 1) {
      uint64_t c = read_u64(efd, "read eventfd");
      prog_say("step %2d eventfd counter %llu\n", step, (unsigned long long)c);
      sum = prog_hash_bytes(sum, &c, sizeof c);
    } else {
      prog_say("step %2d eventfd counter kept\n", step);
    }

    struct signalfd_siginfo si;
    ssize_t r = read(sfd, &si, sizeof si);
    if (r == (ssize_t)sizeof si)
      prog_say("step %2d signalfd: SIGRTMIN+%d value %d%s\n", step,
               (int)si.ssi_signo - SIGRTMIN, si.ssi_int,
               si.ssi_code == SI_QUEUE ? " (queued)" : "");
    else if (r < 0 && errno == EAGAIN)
      prog_say("step %2d signalfd: nothing pending\n", step);
    else
      prog_die("read signalfd");

    if (step % 4 == 2) {
      uint64_t v;
      if (read(sem, &v, sizeof v) == (ssize_t)sizeof v)
        prog_say("step %2d semaphore eventfd gave %llu\n", step, (unsigned long long)v);
      else if (errno == EAGAIN)
        prog_say("step %2d semaphore eventfd empty\n", step);
      else
        prog_die("read semaphore eventfd");
    }

    struct epoll_event again;
    memset(&again, 0, sizeof again);
    again.events = EPOLLIN;
    prog_say("step %2d eventfd still watched: %s\n", step,
             epoll_ctl(ep, EPOLL_CTL_ADD, efd, &again) != 0 && errno == EEXIST ? "yes" : "no");

    wait_ticks(step, ep_alone, tfd);
    prog_sleep_ms(SLEEP_MS);

    struct itimerspec left;
    if (timerfd_gettime(far, &left) != 0) prog_die("timerfd_gettime");
    int armed = (left.it_value.tv_sec > 0 || left.it_value.tv_nsec > 0) &&
                left.it_value.tv_sec <= 3600;
    prog_say("step %2d far timerfd still armed: %s\n", step, armed ? "yes" : "no");

    union sigval v;
    v.sival_int = 500 + step;
    if (sigqueue(getpid(), sig_fd_signal(), v) != 0) prog_die("sigqueue");
    sum = prog_hash_bytes(sum, &got, 1);
  }

  uint64_t expired = 0;
  if (read(once, &expired, sizeof expired) != (ssize_t)sizeof expired) prog_die("read one-shot timerfd");
  prog_say("anon_fds: one-shot timerfd expirations %llu\n", (unsigned long long)expired);
  uint64_t dummy;
  prog_say("anon_fds: one-shot timerfd read again: %s\n",
           read(once, &dummy, sizeof dummy) < 0 && errno == EAGAIN ? "nothing" : "something");
  sum = prog_hash_bytes(sum, &expired, sizeof expired);
  prog_say("anon_fds: final checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
