/* outside_pipe: holds two pipe ends whose other ends belong to whoever started it (fd 3, a read
 * end with bytes waiting in it; fd 4, a write end), counts steps, and at the end reads fd 3 to
 * its end and writes to fd 4: its output says what it read and how the write went. Started
 * with both outside ends closed, it prints what a restore (which closes them) must give.
 * Waits at the test gate (CRYO_TEST_GATE) before its last step. */
#include <signal.h>

#include "prog_common.h"

#define STEPS 20

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  uint64_t sum = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    prog_sleep_ms(30);
    sum = prog_hash_bytes(sum, &step, sizeof step);
    prog_say("step %d\n", step);
  }
  char buf[256];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(3, buf + got, sizeof buf - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) prog_die("read fd 3");
    if (n == 0) break;
    got += (size_t)n;
  }
  buf[got] = 0;
  prog_say("fd 3 gave %zu bytes then end of file: %s\n", got, buf);
  ssize_t w = write(4, "x", 1);
  prog_say("write to fd 4: %s\n", w < 0 && errno == EPIPE ? "EPIPE" : "something else");
  prog_say("checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
