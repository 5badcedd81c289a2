/* signals: exercises handlers (SA_RESTART or not, sa_mask, SA_ONSTACK on a sigaltstack), pending blocked signals, queued real-time signals, sigsuspend with an interval timer and sigtimedwait; held before its last step by the test gate. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/time.h>

#include "prog_common.h"

#define STEPS 16
#define STEP_MS 110
#define ALTSTACK_SIZE (64 * 1024)

static char g_altstack[ALTSTACK_SIZE];
static volatile sig_atomic_t g_usr1, g_usr2, g_alarm, g_rt;

/* Async-signal-safe: "<prefix><number><suffix>" with write(). */
static void emit(const char* prefix, long value, const char* suffix) {
  char buf[160];
  size_t n = 0;
  for (const char* p = prefix; *p && n < 100; p++) buf[n++] = *p;
  char digits[24];
  int d = 0;
  int neg = value < 0;
  unsigned long v = neg ? (unsigned long)(-value) : (unsigned long)value;
  do {
    digits[d++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  if (neg) buf[n++] = '-';
  while (d) buf[n++] = digits[--d];
  for (const char* p = suffix; *p && n < sizeof buf - 1; p++) buf[n++] = *p;
  prog_write_all(1, buf, n);
}

static void on_usr1(int sig) {
  (void)sig;
  g_usr1++;
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  emit("  handler SIGUSR1 call ", g_usr1,
       sigismember(&cur, SIGUSR2) ? ", SIGUSR2 blocked inside: yes\n"
                                  : ", SIGUSR2 blocked inside: no\n");
}

static void on_usr2(int sig) {
  (void)sig;
  g_usr2++;
  char here;
  int on_alt = &here >= g_altstack && &here < g_altstack + ALTSTACK_SIZE;
  stack_t cur;
  sigaltstack(NULL, &cur);
  emit("  handler SIGUSR2 call ", g_usr2,
       on_alt && (cur.ss_flags & SS_ONSTACK) ? ", on the alternate stack: yes\n"
                                             : ", on the alternate stack: no\n");
}

static void on_alarm(int sig) {
  (void)sig;
  g_alarm++;
}

static void on_rt(int sig, siginfo_t* si, void* uc) {
  (void)sig;
  (void)uc;
  g_rt++;
  emit("  handler SIGRTMIN+2 value ", si->si_value.sival_int,
       si->si_code == SI_QUEUE ? " (queued)\n" : " (not queued)\n");
}

static void install(int sig, void (*h)(int), void (*sa)(int, siginfo_t*, void*), int flags,
                    int masked) {
  struct sigaction act;
  memset(&act, 0, sizeof act);
  if (sa)
    act.sa_sigaction = sa;
  else
    act.sa_handler = h;
  act.sa_flags = flags;
  sigemptyset(&act.sa_mask);
  if (masked) sigaddset(&act.sa_mask, masked);
  if (sigaction(sig, &act, NULL) != 0) prog_die("sigaction");
}

static int rt_sig(void) { return SIGRTMIN + 2; }
static int never_sig(void) { return SIGRTMIN + 5; }

/* Prints the state the kernel holds for this task: actions, altstack, blocked and pending sets. */
static void report(int step) {
  struct {
    const char* name;
    int sig;
  } sigs[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"ALRM", SIGALRM}, {"RT2", rt_sig()}};
  char line[512];
  int n = snprintf(line, sizeof line, "step %2d actions:", step);
  for (unsigned i = 0; i < 4; i++) {
    struct sigaction cur;
    if (sigaction(sigs[i].sig, NULL, &cur) != 0) prog_die("sigaction query");
    n += snprintf(line + n, sizeof line - (size_t)n, " %s[%s%s%s%s]", sigs[i].name,
                  (cur.sa_flags & SA_RESTART) ? "R" : "-", (cur.sa_flags & SA_ONSTACK) ? "O" : "-",
                  (cur.sa_flags & SA_SIGINFO) ? "I" : "-",
                  sigismember(&cur.sa_mask, SIGUSR2) ? "m" : "-");
  }
  stack_t ss;
  if (sigaltstack(NULL, &ss) != 0) prog_die("sigaltstack query");
  n += snprintf(line + n, sizeof line - (size_t)n, " altstack[%s size=%zu flags=%d]",
                ss.ss_sp == g_altstack ? "ours" : "other", ss.ss_size, ss.ss_flags);
  sigset_t blocked, pending;
  sigprocmask(SIG_BLOCK, NULL, &blocked);
  sigpending(&pending);
  n += snprintf(line + n, sizeof line - (size_t)n, " blocked:");
  for (unsigned i = 0; i < 4; i++)
    if (sigismember(&blocked, sigs[i].sig))
      n += snprintf(line + n, sizeof line - (size_t)n, " %s", sigs[i].name);
  n += snprintf(line + n, sizeof line - (size_t)n, " pending:");
  for (unsigned i = 0; i < 4; i++)
    if (sigismember(&pending, sigs[i].sig))
      n += snprintf(line + n, sizeof line - (size_t)n, " %s", sigs[i].name);
  snprintf(line + n, sizeof line - (size_t)n, "\n");
  prog_say("%s", line);
}

static void block(int sig, int how) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  if (sigprocmask(how, &s, NULL) != 0) prog_die("sigprocmask");
}

/* Waits for one SIGALRM from a one-shot interval timer inside sigsuspend. */
static void wait_alarm(int step) {
  int before = g_alarm;
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_usec = STEP_MS * 1000;
  if (setitimer(ITIMER_REAL, &it, NULL) != 0) prog_die("setitimer");
  sigset_t wait_mask;
  sigprocmask(SIG_BLOCK, NULL, &wait_mask);
  sigdelset(&wait_mask, SIGALRM);
  while (g_alarm == before) sigsuspend(&wait_mask);
  prog_say("step %2d woken by SIGALRM in sigsuspend (%d alarms so far)\n", step, (int)g_alarm);
}

/* Waits in sigtimedwait for a signal nobody sends: it must time out. */
static void wait_timeout(int step) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, never_sig());
  struct timespec ts = {0, STEP_MS * 1000000L};
  int r;
  do {
    r = sigtimedwait(&s, NULL, &ts);
  } while (r < 0 && errno == EINTR);
  prog_say("step %2d sigtimedwait %s\n", step,
           r < 0 && errno == EAGAIN ? "timed out" : "returned something unexpected");
}

int main(void) {
  stack_t ss;
  ss.ss_sp = g_altstack;
  ss.ss_size = ALTSTACK_SIZE;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, NULL) != 0) prog_die("sigaltstack");

  install(SIGUSR1, on_usr1, NULL, SA_RESTART, SIGUSR2);
  install(SIGUSR2, on_usr2, NULL, SA_ONSTACK, 0);
  install(SIGALRM, on_alarm, NULL, 0, 0);
  install(rt_sig(), NULL, on_rt, SA_SIGINFO | SA_RESTART, 0);
  block(SIGALRM, SIG_BLOCK);
  block(never_sig(), SIG_BLOCK);
  prog_say("signals: start\n");

  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    report(step);
    switch (step) {
      case 1:
        raise(SIGUSR1);
        break;
      case 2:
        raise(SIGUSR2);
        break;
      case 3:
        block(SIGUSR1, SIG_BLOCK);
        block(rt_sig(), SIG_BLOCK);
        raise(SIGUSR1);
        prog_say("step %2d SIGUSR1 raised while blocked\n", step);
        /* fall through */
      case 4:
      case 5: {
        union sigval v;
        v.sival_int = 100 + step;
        if (sigqueue(getpid(), rt_sig(), v) != 0) prog_die("sigqueue");
        prog_say("step %2d queued SIGRTMIN+2 with value %d\n", step, v.sival_int);
        break;
      }
      case 9:
        prog_say("step %2d unblocking SIGUSR1\n", step);
        block(SIGUSR1, SIG_UNBLOCK);
        break;
      case 10: {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, rt_sig());
        siginfo_t si;
        struct timespec ts = {1, 0};
        int r;
        do {
          r = sigtimedwait(&s, &si, &ts);
        } while (r < 0 && errno == EINTR);
        prog_say("step %2d sigtimedwait took %s value %d\n", step,
                 r == rt_sig() ? "SIGRTMIN+2" : "something else", si.si_value.sival_int);
        break;
      }
      case 11:
        prog_say("step %2d unblocking SIGRTMIN+2\n", step);
        block(rt_sig(), SIG_UNBLOCK);
        break;
      case 12:
        raise(SIGUSR2);
        raise(SIGUSR1);
        break;
      default:
        break;
    }
    if (step % 2 == 0)
      wait_alarm(step);
    else
      wait_timeout(step);
  }
  prog_say("signals: usr1=%d usr2=%d alarms=%d rt=%d\n", (int)g_usr1, (int)g_usr2, (int)g_alarm,
           (int)g_rt);
  uint64_t sum = prog_hash_bytes(PROG_HASH_SEED, (int[]){g_usr1, g_usr2, g_alarm, g_rt},
                                 4 * sizeof(int));
  prog_say("signals: final checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
