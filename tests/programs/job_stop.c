/* job_stop: a three-thread program a test stops by job control (SIGSTOP) at its gate: a worker blocked in read(), one on a condition variable, the main thread (the only one taking SIGCONT, counted by a handler) waiting at the gate. */
#include <pthread.h>
#include <signal.h>

#include "prog_common.h"

static volatile sig_atomic_t continued;
static int feed[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int released;
static uint64_t results[2];

static void on_cont(int sig) {
  (void)sig;
  continued++;
}

/* Blocked in read() until the main thread feeds it a seed. */
static void* reader(void* arg) {
  (void)arg;
  uint64_t seed;
  prog_read_all(feed[0], &seed, sizeof seed);
  uint64_t h = PROG_HASH_SEED;
  for (int i = 0; i < 100000; i++) h = prog_hash_bytes(h, &seed, sizeof seed) + (uint64_t)i;
  results[0] = h;
  return NULL;
}

/* Waits on a condition variable until the main thread releases it. */
static void* waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  while (!released) pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
  uint64_t st = 42, h = PROG_HASH_SEED;
  for (int i = 0; i < 100000; i++) h ^= prog_rand(&st);
  results[1] = h;
  return NULL;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_cont;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGCONT, &sa, NULL) != 0) prog_die("sigaction");
  if (pipe(feed) != 0) prog_die("pipe");
  /* The workers start with SIGCONT blocked: its handler runs on the main thread. */
  sigset_t cont, old;
  sigemptyset(&cont);
  sigaddset(&cont, SIGCONT);
  pthread_sigmask(SIG_BLOCK, &cont, &old);
  pthread_t r, w;
  if (pthread_create(&r, NULL, reader, NULL) != 0) prog_die("pthread_create");
  if (pthread_create(&w, NULL, waiter, NULL) != 0) prog_die("pthread_create");
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  prog_say("ready\n");
  prog_gate(); /* the test stops the program here, and continues it before opening the gate */
  prog_say("continued %d\n", (int)continued);
  uint64_t seed = 0x1234567;
  prog_write_all(feed[1], &seed, sizeof seed);
  pthread_mutex_lock(&lock);
  released = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
  pthread_join(r, NULL);
  pthread_join(w, NULL);
  prog_say("reader %016llx\n", (unsigned long long)results[0]);
  prog_say("waiter %016llx\n", (unsigned long long)results[1]);
  prog_say("checksum %016llx\n", (unsigned long long)(results[0] ^ results[1]));
  return 0;
}
