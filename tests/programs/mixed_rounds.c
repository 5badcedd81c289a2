/* mixed_rounds: writes a little everywhere every round (512 bytes in 64 random pages of a malloc'd
 * 48 MiB chunk, bytes of an 8 MiB anonymous mapping, small brk allocations, state kept live in its
 * stack frame) and recurses one 4 KiB frame deeper each round, so that its [stack] mapping grows
 * while checkpoints are taken. Prints the round and a running hash of what it wrote and read: a
 * restore that lost any write prints a different line from the round after its checkpoint on.
 * Waits at the test gate (CRYO_TEST_GATE) before its last round. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "prog_common.h"

#define BIG (48u << 20)
#define MAPPED (8u << 20)
#define SMALL 256
#define ROUNDS 150

static uint64_t recurse(int depth, uint64_t h) {
  volatile unsigned char frame[4096];
  for (unsigned i = 0; i < sizeof frame; i += 512) frame[i] = (unsigned char)(h >> (i % 56));
  uint64_t r = depth ? recurse(depth - 1, h * 31 + frame[(unsigned)depth % 8 * 512]) : h;
  return r ^ frame[0];
}

int main(void) {
  uint64_t seed = 42, h = PROG_HASH_SEED;
  unsigned char* big = malloc(BIG);
  unsigned char* mapped = mmap(0, MAPPED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (!big || mapped == MAP_FAILED) prog_die("allocation");
  unsigned char* small[SMALL];
  for (int i = 0; i < SMALL; i++) {
    small[i] = malloc(200 + (size_t)i * 8);
    if (!small[i]) prog_die("malloc");
    memset(small[i], i, 200 + (size_t)i * 8);
  }
  for (size_t i = 0; i < BIG; i += 8) *(uint64_t*)(big + i) = prog_rand(&seed);
  for (size_t i = 0; i < MAPPED; i += 8) *(uint64_t*)(mapped + i) = prog_rand(&seed);
  volatile uint64_t live[512]; /* state in the stack frame, live across every sleep */
  for (int i = 0; i < 512; i++) live[i] = (uint64_t)i;
  for (int r = 0; r < ROUNDS; r++) {
    if (r == ROUNDS - 1) prog_gate();
    live[r % 512] += h;
    h ^= live[(r * 7) % 512];
    for (int k = 0; k < 64; k++) {
      size_t page = prog_rand(&seed) % (BIG / 4096);
      memset(big + page * 4096 + (prog_rand(&seed) % 7) * 512, r + k, 512);
    }
    for (int k = 0; k < 64; k++) mapped[prog_rand(&seed) % MAPPED] ^= (unsigned char)(1u << (k % 8));
    for (int i = r % 64; i < SMALL; i += 64) {
      small[i][r % 200] += (unsigned char)r;
      h = prog_hash_bytes(h, small[i], 200 + (size_t)i * 8);
    }
    h = prog_hash_words(h, (const uint64_t*)(big + (size_t)(r % 64) * (BIG / 64)), BIG / 64 / 8);
    h = prog_hash_words(h, (const uint64_t*)(mapped + (size_t)(r % 64) * (MAPPED / 64)), MAPPED / 64 / 8);
    h = recurse(8 + r, h);
    prog_say("round %d hash %016llx\n", r, (unsigned long long)h);
    prog_sleep_ms(20);
  }
  uint64_t all = PROG_HASH_SEED;
  all = prog_hash_words(all, (const uint64_t*)big, BIG / 8);
  all = prog_hash_words(all, (const uint64_t*)mapped, MAPPED / 8);
  prog_say("done %016llx\n", (unsigned long long)all);
  return 0;
}
