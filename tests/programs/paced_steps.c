/* paced_steps: one process, one thread, no children: every 50 ms it scrambles a 256 KiB buffer and prints its checksum, STEPS times (default 40), held before the last step by the test gate. */
#include <stdlib.h>

#include "prog_common.h"

#define WORDS ((256u << 10) / 8)

static uint64_t g_buf[WORDS];

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
  if (steps < 1) steps = 1;
  uint64_t rng = 0x5EEDF00Dull;
  for (size_t i = 0; i < WORDS; i++) g_buf[i] = prog_rand(&rng);
  for (int step = 0; step < steps; step++) {
    if (step == steps - 1) prog_gate();
    for (int k = 0; k < 4096; k++) g_buf[prog_rand(&rng) % WORDS] ^= prog_rand(&rng);
    prog_say("step %d %016llx\n", step,
             (unsigned long long)prog_hash_words(PROG_HASH_SEED, g_buf, WORDS));
    prog_sleep_ms(50);
  }
  return 0;
}
