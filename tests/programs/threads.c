/* threads: four workers synchronised by a mutex, a condition variable and a barrier, plus a thread blocked in read() on a pipe and one polling a pipe with a timeout; the main thread prints per-round results in a fixed order; held before its last round by the test gate. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>

#include "prog_common.h"

#define WORKERS 4
#define ROUNDS 15
#define ROUND_MS 120

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t g_barrier;
static int g_round = -1; /* guarded by g_mu */
static int g_stop;       /* guarded by g_mu */
static uint64_t g_results[WORKERS];
static __thread uint64_t t_accumulator; /* per-thread state in TLS */

static int g_req[2], g_resp[2];           /* main <-> reader */
static int g_poll_req[2], g_poll_resp[2]; /* main <-> poller */

static uint64_t work(int worker, int round) {
  uint64_t s = ((uint64_t)worker << 32) ^ (uint64_t)round ^ 0xABCDEF;
  uint64_t acc = 0;
  for (int i = 0; i < 40000; i++) acc += prog_rand(&s) >> (i & 15);
  return acc;
}

static void* worker_main(void* arg) {
  int id = (int)(intptr_t)arg;
  char name[16];
  snprintf(name, sizeof name, "worker-%d", id);
  pthread_setname_np(pthread_self(), name);
  int seen = -1;
  for (;;) {
    pthread_mutex_lock(&g_mu);
    while (g_round == seen && !g_stop) pthread_cond_wait(&g_cv, &g_mu);
    if (g_stop) {
      pthread_mutex_unlock(&g_mu);
      break;
    }
    seen = g_round;
    pthread_mutex_unlock(&g_mu);
    uint64_t v = work(id, seen);
    t_accumulator = t_accumulator * 31 + v;
    g_results[id] = v ^ (t_accumulator >> 7);
    pthread_barrier_wait(&g_barrier);
  }
  return NULL;
}

static ssize_t read_retry(int fd, void* buf, size_t n) {
  for (;;) {
    ssize_t r = read(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

/* Blocks in read() until main sends a request; answers with the request reversed. */
static void* reader_main(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "reader");
  for (;;) {
    char buf[128];
    ssize_t n = read_retry(g_req[0], buf, sizeof buf);
    if (n < 0) prog_die("reader read");
    if (n == 0) break;
    char out[160];
    int m = snprintf(out, sizeof out, "reader reversed [");
    for (ssize_t i = n - 1; i >= 0; i--) out[m++] = buf[i];
    out[m++] = ']';
    prog_write_all(g_resp[1], out, (size_t)m);
  }
  return NULL;
}

/* Polls with a short timeout; the number of timeouts is never printed (it depends on timing). */
static void* poller_main(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "poller");
  unsigned long timeouts = 0;
  for (;;) {
    struct pollfd p = {.fd = g_poll_req[0], .events = POLLIN};
    int r = poll(&p, 1, 45);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) prog_die("poll");
    if (r == 0) {
      timeouts++;
      continue;
    }
    char buf[128];
    ssize_t n = read_retry(g_poll_req[0], buf, sizeof buf - 1);
    if (n <= 0) prog_die("poller read");
    buf[n] = '\0';
    if (strcmp(buf, "quit") == 0) break;
    char out[192];
    int m = snprintf(out, sizeof out, "poller saw [%s] (%zd bytes)", buf, n);
    prog_write_all(g_poll_resp[1], out, (size_t)m);
  }
  (void)timeouts;
  return NULL;
}

static void ask(int req_fd, int resp_fd, const char* msg, int round) {
  prog_write_all(req_fd, msg, strlen(msg));
  char buf[256];
  ssize_t n = read_retry(resp_fd, buf, sizeof buf - 1);
  if (n <= 0) prog_die("reply");
  buf[n] = '\0';
  prog_say("round %2d %s\n", round, buf);
}

int main(void) {
  if (pipe(g_req) || pipe(g_resp) || pipe(g_poll_req) || pipe(g_poll_resp)) prog_die("pipe");
  if (pthread_barrier_init(&g_barrier, NULL, WORKERS + 1) != 0) prog_die("barrier");
  pthread_t workers[WORKERS], reader, poller;
  for (int i = 0; i < WORKERS; i++)
    if (pthread_create(&workers[i], NULL, worker_main, (void*)(intptr_t)i) != 0)
      prog_die("pthread_create worker");
  if (pthread_create(&reader, NULL, reader_main, NULL) != 0) prog_die("pthread_create reader");
  if (pthread_create(&poller, NULL, poller_main, NULL) != 0) prog_die("pthread_create poller");
  prog_say("threads: start, %d workers, a reader and a poller\n", WORKERS);

  uint64_t total = PROG_HASH_SEED;
  for (int round = 0; round < ROUNDS; round++) {
    if (round == ROUNDS - 1) prog_gate();
    pthread_mutex_lock(&g_mu);
    g_round = round;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_barrier_wait(&g_barrier);
    uint64_t combined = PROG_HASH_SEED;
    for (int i = 0; i < WORKERS; i++) combined = prog_hash_words(combined, &g_results[i], 1);
    total = prog_hash_words(total, &combined, 1);
    prog_say("round %2d results %016llx %016llx %016llx %016llx combined %016llx\n", round,
             (unsigned long long)g_results[0], (unsigned long long)g_results[1],
             (unsigned long long)g_results[2], (unsigned long long)g_results[3],
             (unsigned long long)combined);
    char msg[64];
    if (round % 3 == 1) {
      snprintf(msg, sizeof msg, "ping-%d", round);
      ask(g_req[1], g_resp[0], msg, round);
    }
    if (round % 4 == 2) {
      snprintf(msg, sizeof msg, "poll-%d", round);
      ask(g_poll_req[1], g_poll_resp[0], msg, round);
    }
    prog_sleep_ms(ROUND_MS);
  }

  pthread_mutex_lock(&g_mu);
  g_stop = 1;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  close(g_req[1]);
  prog_write_all(g_poll_req[1], "quit", 4);
  for (int i = 0; i < WORKERS; i++) pthread_join(workers[i], NULL);
  pthread_join(reader, NULL);
  pthread_join(poller, NULL);
  prog_say("threads: final checksum %016llx\n", (unsigned long long)total);
  return 0;
}
