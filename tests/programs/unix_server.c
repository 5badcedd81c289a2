/* unix_server: a process tree: the parent listens on a UNIX socket at a path in the work directory and forks a client child (which keeps the listening fd too) that connects and then answers requests; requests and answers sit queued in the connection most of the time, and a datagram socketpair between them carries a tally. Only the parent prints; it reaps the child at the end. argv[1]: the work directory. */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "prog_common.h"

#define STEPS 20
#define SLEEP_MS 80

static void read_exact(int fd, void* buf, size_t len, const char* what) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, (char*)buf + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) prog_die(what);
    done += (size_t)n;
  }
}

static uint64_t answer(uint64_t q) { return q * 2654435761u + 17; }

static void child(int lsock, int tally) {
  (void)lsock; /* kept open: the listening description is shared with the parent */
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, "server.sock");
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  if (c < 0 || connect(c, (struct sockaddr*)&sa, sizeof sa) != 0) prog_die("child connect");
  uint64_t sum = 0;
  for (;;) {
    prog_sleep_ms(SLEEP_MS / 2); /* the request waits in the queue meanwhile */
    uint64_t q;
    read_exact(c, &q, sizeof q, "child read request");
    if (q == 0) break;
    uint64_t a = answer(q);
    sum += a;
    prog_write_all(c, &a, sizeof a);
    if (send(tally, &sum, sizeof sum, 0) != (ssize_t)sizeof sum) prog_die("child tally");
  }
  _exit((int)(sum % 200));
}

int main(int argc, char** argv) {
  if (argc < 2 || chdir(argv[1]) != 0) prog_die("chdir to the work directory");
  unlink("server.sock");
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, "server.sock");
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(l, 4) != 0)
    prog_die("listen");
  int tally[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, tally)) prog_die("socketpair");
  pid_t pid = fork();
  if (pid < 0) prog_die("fork");
  if (pid == 0) {
    close(tally[0]);
    child(l, tally[1]);
  }
  close(tally[1]);
  int conn = accept(l, NULL, NULL);
  if (conn < 0) prog_die("accept");
  uint64_t state = 42, mine = 0;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    uint64_t q = (prog_rand(&state) % 1000000) + 1;
    prog_write_all(conn, &q, sizeof q);
    prog_sleep_ms(SLEEP_MS); /* the answer waits in the queue for the second half */
    uint64_t a, sum;
    read_exact(conn, &a, sizeof a, "parent read answer");
    if (recv(tally[0], &sum, sizeof sum, 0) != (ssize_t)sizeof sum) prog_die("parent tally");
    mine += answer(q);
    prog_say("step %2d: asked %llu, answer %llu%s, tally %s\n", step, (unsigned long long)q,
             (unsigned long long)a, a == answer(q) ? "" : " WRONG", sum == mine ? "ok" : "WRONG");
  }
  uint64_t zero = 0;
  prog_write_all(conn, &zero, sizeof zero);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) prog_die("waitpid");
  prog_say("child exited with %d (expected %d)\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           (int)(mine % 200));
  unlink("server.sock");
  return 0;
}
