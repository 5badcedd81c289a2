/* page_burst: touches a 64 MiB region, then at known moments writes exactly 1000 distinct
 * pages of it, and later 500 pages of a region mapped only then; sleeps in between. A tracker
 * must report those bursts (and little else) in the checkpoints that follow them. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  size_t n = 64u << 20;
  unsigned char* a = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) return 99;
  memset(a, 1, n);
  printf("touched\n");
  fflush(stdout);
  usleep(900000);
  for (int i = 0; i < 1000; i++) a[(size_t)i * 13 * 4096 % n] = 2;  /* 1000 distinct pages */
  usleep(1200000);
  unsigned char* b = mmap(0, 4u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED) return 99;
  for (int i = 0; i < 500; i++) b[(size_t)i * 2 * 4096] = 3;  /* 500 pages of a new mapping */
  usleep(1200000);
  printf("done\n");
  return 0;
}
