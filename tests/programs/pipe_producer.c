/* pipe_producer: the head of a shell pipeline test: prints pseudo-random lines slowly, so that a checkpoint finds the downstream sort and sha256sum waiting with data in flight. */
#include "prog_common.h"

#define LINES 40
#define LINE_MS 40

int main(void) {
  uint64_t rng = 0x5EEDull;
  for (int i = 0; i < LINES; i++) {
    if (i == LINES - 1) prog_gate();
    uint64_t a = prog_rand(&rng), b = prog_rand(&rng);
    prog_say("%016llx line %02d %016llx\n", (unsigned long long)a, i, (unsigned long long)b);
    prog_sleep_ms(LINE_MS);
  }
  return 0;
}
