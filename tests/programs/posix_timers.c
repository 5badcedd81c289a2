/* posix_timers: POSIX timers firing across a checkpoint: a periodic SIGEV_SIGNAL timer counted by a handler (checking the value it carries), a SIGEV_THREAD_ID timer whose signals a worker thread takes with sigwaitinfo, SIGEV_NONE timers polled with timer_gettime (a far-off one, a periodic one, a one-shot one waited for), and a hole in the timer IDs (a timer deleted). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "prog_common.h"

#define STEPS 16
#define SLEEP_MS 50
#define SIGNAL_PERIOD_MS 10
#define EXPIRATIONS_PER_STEP 5
#define THREAD_PERIOD_MS 20
#define NONE_PERIOD_MS 40

#define VALUE_SIGNAL 0x7101
#define VALUE_THREAD 0x7105

static int sig_process(void) { return SIGRTMIN + 3; }
static int sig_thread(void) { return SIGRTMIN + 4; }

static volatile sig_atomic_t g_fired, g_bad_value, g_misrouted;
static atomic_int g_worker_got, g_worker_bad, g_stop, g_worker_tid;
static int g_signal_timer_id;

static void on_timer(int sig, siginfo_t* si, void* uc) {
  (void)sig;
  (void)uc;
  if (si->si_code != SI_TIMER || si->si_value.sival_int != VALUE_SIGNAL ||
      si->si_timerid != g_signal_timer_id)
    g_bad_value++;
  g_fired++;
}

/* The thread timer's signal reaches this handler only if it is sent to the process. */
static void on_misrouted(int sig) {
  (void)sig;
  g_misrouted++;
}

static void* worker(void* arg) {
  (void)arg;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig_thread());
  atomic_store(&g_worker_tid, (int)syscall(SYS_gettid));
  while (!atomic_load(&g_stop)) {
    siginfo_t si;
    int r = sigwaitinfo(&s, &si);
    if (r < 0) {
      if (errno == EINTR) continue;
      prog_die("sigwaitinfo");
    }
    if (si.si_code != SI_TIMER || si.si_value.sival_int != VALUE_THREAD)
      atomic_fetch_add(&g_worker_bad, 1);
    atomic_fetch_add(&g_worker_got, 1);
  }
  return NULL;
}

static timer_t make_timer(clockid_t clock, int notify, int sig, int value, pid_t tid) {
  struct sigevent se;
  memset(&se, 0, sizeof se);
  se.sigev_notify = notify;
  se.sigev_signo = sig;
  se.sigev_value.sival_int = value;
  if (notify == SIGEV_THREAD_ID) se._sigev_un._tid = tid; /* sigev_notify_thread_id */
  timer_t t;
  if (timer_create(clock, &se, &t) != 0) prog_die("timer_create");
  return t;
}

static void arm(timer_t t, long first_ms, long period_ms) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = first_ms / 1000;
  its.it_value.tv_nsec = (first_ms % 1000) * 1000000L;
  its.it_interval.tv_sec = period_ms / 1000;
  its.it_interval.tv_nsec = (period_ms % 1000) * 1000000L;
  if (timer_settime(t, 0, &its, NULL) != 0) prog_die("timer_settime");
}

static long long left_ns(timer_t t) {
  struct itimerspec its;
  if (timer_gettime(t, &its) != 0) prog_die("timer_gettime");
  return (long long)its.it_value.tv_sec * 1000000000LL + its.it_value.tv_nsec;
}

int main(void) {
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_sigaction = on_timer;
  act.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&act.sa_mask);
  if (sigaction(sig_process(), &act, NULL) != 0) prog_die("sigaction");
  struct sigaction mis;
  memset(&mis, 0, sizeof mis);
  mis.sa_handler = on_misrouted;
  mis.sa_flags = SA_RESTART;
  if (sigaction(sig_thread(), &mis, NULL) != 0) prog_die("sigaction misrouted");

  /* The worker is created with the thread timer's signal blocked; main then unblocks it. */
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig_thread());
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  pthread_t th;
  if (pthread_create(&th, NULL, worker, NULL) != 0) prog_die("pthread_create");
  pthread_sigmask(SIG_UNBLOCK, &s, NULL);
  while (!atomic_load(&g_worker_tid)) prog_sleep_ms(1);
  pid_t worker_tid = (pid_t)atomic_load(&g_worker_tid);

  timer_t t_signal = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, sig_process(), VALUE_SIGNAL, 0);
  g_signal_timer_id = (int)(intptr_t)t_signal;
  timer_t t_gone = make_timer(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0);
  if (timer_delete(t_gone) != 0) prog_die("timer_delete");
  timer_t t_far = make_timer(CLOCK_REALTIME, SIGEV_NONE, 0, 0, 0);
  timer_t t_shot = make_timer(CLOCK_BOOTTIME, SIGEV_NONE, 0, 0, 0);
  timer_t t_periodic = make_timer(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0);
  timer_t t_thread = make_timer(CLOCK_MONOTONIC, SIGEV_THREAD_ID, sig_thread(), VALUE_THREAD,
                                worker_tid);
  prog_say("posix_timers: ids %d (%d deleted) %d %d %d %d\n", (int)(intptr_t)t_signal,
           (int)(intptr_t)t_gone, (int)(intptr_t)t_far, (int)(intptr_t)t_shot,
           (int)(intptr_t)t_periodic, (int)(intptr_t)t_thread);

  arm(t_signal, SIGNAL_PERIOD_MS, SIGNAL_PERIOD_MS);
  arm(t_far, 3600 * 1000L, 0);
  arm(t_shot, 600, 0);
  arm(t_periodic, NONE_PERIOD_MS, NONE_PERIOD_MS);
  arm(t_thread, THREAD_PERIOD_MS, THREAD_PERIOD_MS);

  uint64_t sum = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    int before = g_fired;
    while (g_fired < before + EXPIRATIONS_PER_STEP) pause();
    prog_say("step %2d SIGEV_SIGNAL timer: >=%d expirations\n", step, EXPIRATIONS_PER_STEP);

    int worker_before = atomic_load(&g_worker_got);
    prog_sleep_ms(SLEEP_MS);
    prog_say("step %2d SIGEV_THREAD_ID timer reached the worker: %s\n", step,
             atomic_load(&g_worker_got) > worker_before ? ">=1" : "no");

    long long far = left_ns(t_far);
    prog_say("step %2d far SIGEV_NONE timer armed: %s\n", step,
             far > 3500 * 1000000000LL && far <= 3600 * 1000000000LL ? "yes" : "no");
    long long per = left_ns(t_periodic);
    prog_say("step %2d periodic SIGEV_NONE timer within its period: %s\n", step,
             per > 0 && per <= NONE_PERIOD_MS * 1000000LL ? "yes" : "no");
    if (step == 3) {
      /* Polled until it expires, 600 ms after the start: a few steps from here. */
      while (left_ns(t_shot) > 0) prog_sleep_ms(5);
      prog_say("step %2d one-shot SIGEV_NONE timer polled until it expired\n", step);
    }
    sum = prog_hash_bytes(sum, &step, sizeof step);
  }
  if (left_ns(t_shot) != 0) prog_die("one-shot timer re-armed itself");

  atomic_store(&g_stop, 1);
  pthread_join(th, NULL);
  if (timer_delete(t_thread) != 0 || timer_delete(t_signal) != 0) prog_die("timer_delete");
  prog_say("posix_timers: wrong values %d, worker wrong values %d, misrouted %d\n",
           (int)g_bad_value, atomic_load(&g_worker_bad), (int)g_misrouted);
  int bad[3] = {g_bad_value, atomic_load(&g_worker_bad), g_misrouted};
  sum = prog_hash_bytes(sum, bad, sizeof bad);
  prog_say("posix_timers: final checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
