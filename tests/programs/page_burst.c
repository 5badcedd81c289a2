/* page_burst: touches a 64 MiB region, then writes exactly 1000 distinct pages of it, then 500
 * pages of a region mapped only then, printing a line after each phase ("touched", "burst",
 * "mapped", "done"). Under a test each phase waits for a gate of its own (prog_gate_named:
 * ".burst", ".map", ".end"), which the test opens once the checkpoints it needs are taken; an
 * uninterrupted run, without CRYO_TEST_GATE, goes straight through. A tracker must report those
 * bursts (and little else) in the checkpoints taken while they ran. */
#include <sys/mman.h>

#include "prog_common.h"

int main(void) {
  size_t n = 64u << 20;
  unsigned char* a = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) return 99;
  memset(a, 1, n);
  prog_say("touched\n");
  prog_gate_named(".burst");
  for (int i = 0; i < 1000; i++) a[(size_t)i * 13 * 4096 % n] = 2; /* 1000 distinct pages */
  prog_say("burst\n");
  prog_gate_named(".map");
  unsigned char* b = mmap(0, 4u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED) return 99;
  for (int i = 0; i < 500; i++) b[(size_t)i * 2 * 4096] = 3; /* 500 pages of a new mapping */
  prog_say("mapped\n");
  prog_gate_named(".end");
  prog_say("done\n");
  return 0;
}
