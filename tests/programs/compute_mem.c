/* compute_mem: a deterministic computation over brk heap, anonymous mmap and stack memory, printing a running checksum per step; held before its last step by the test gate. */
#define _GNU_SOURCE
#include <malloc.h>
#include <sys/mman.h>

#include "prog_common.h"

#define HEAP_WORDS ((6u << 20) / 8)   /* 6 MiB from malloc, kept on the brk heap */
#define MAP_WORDS ((4u << 20) / 8)    /* 4 MiB anonymous private mapping */
#define STACK_WORDS ((512u << 10) / 8) /* 512 KiB array on the main stack */
#define SMALL_BLOCKS 3000              /* many small malloc blocks, a linked list */
#define STEPS 16
#define STEP_MS 115
#define PAGE 4096u

struct block {
  struct block* next;
  uint64_t value[7];
};

static uint64_t g_data_word = 0x1234567890ABCDEFull; /* lives in .data */
static uint64_t g_bss_words[4096];                    /* lives in .bss */

static uint64_t scramble(uint64_t* rng, uint64_t* words, size_t n, unsigned rounds) {
  uint64_t acc = 0;
  for (unsigned i = 0; i < rounds; i++) {
    uint64_t r = prog_rand(rng);
    size_t idx = (size_t)(r % n);
    words[idx] ^= r;
    words[(idx * 7 + 13) % n] += words[idx] >> 3;
    acc += words[idx];
  }
  return acc;
}

int main(void) {
  /* Keep the big buffer on the brk heap rather than in its own mapping. */
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);

  uint64_t rng = 0xC0FFEE12345ull;
  uint64_t stack_words[STACK_WORDS];

  uint64_t* heap = malloc(HEAP_WORDS * sizeof(uint64_t));
  if (!heap) prog_die("malloc heap");
  uint64_t* map = mmap(NULL, MAP_WORDS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) prog_die("mmap");

  struct block* list = NULL;
  for (unsigned i = 0; i < SMALL_BLOCKS; i++) {
    struct block* b = malloc(sizeof *b);
    if (!b) prog_die("malloc block");
    for (unsigned k = 0; k < 7; k++) b->value[k] = prog_rand(&rng);
    b->next = list;
    list = b;
  }

  for (size_t i = 0; i < HEAP_WORDS; i++) heap[i] = prog_rand(&rng);
  /* Only the first three quarters of the mapping are ever written: the rest stays zero. */
  size_t map_used = MAP_WORDS / 4 * 3;
  for (size_t i = 0; i < map_used; i++) map[i] = prog_rand(&rng) | 1;
  for (size_t i = 0; i < STACK_WORDS; i++) stack_words[i] = prog_rand(&rng);
  for (size_t i = 0; i < 4096; i++) g_bss_words[i] = i * g_data_word;

  /* The last written page of the used part becomes read-only after it is filled. */
  uint64_t* ro_page = map + (map_used - PAGE / 8);
  if (mprotect(ro_page, PAGE, PROT_READ) != 0) prog_die("mprotect");

  prog_say("compute_mem: start heap=%u KiB map=%u KiB stack=%u KiB blocks=%u\n",
           (unsigned)(HEAP_WORDS * 8 / 1024), (unsigned)(MAP_WORDS * 8 / 1024),
           (unsigned)(STACK_WORDS * 8 / 1024), SMALL_BLOCKS);

  uint64_t total = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    uint64_t a = scramble(&rng, heap, HEAP_WORDS, 60000);
    uint64_t b = scramble(&rng, map, map_used - PAGE / 8, 40000);
    uint64_t c = scramble(&rng, stack_words, STACK_WORDS, 20000);
    g_data_word = g_data_word * 6364136223846793005ull + 1442695040888963407ull;
    g_bss_words[step % 4096] ^= g_data_word;
    for (struct block* p = list; p; p = p->next) p->value[step % 7] += a ^ (uint64_t)step;

    uint64_t hh = prog_hash_words(PROG_HASH_SEED, heap, HEAP_WORDS);
    uint64_t hm = prog_hash_words(PROG_HASH_SEED, map, MAP_WORDS);
    uint64_t hs = prog_hash_words(PROG_HASH_SEED, stack_words, STACK_WORDS);
    uint64_t hg = prog_hash_words(g_data_word, g_bss_words, 4096);
    uint64_t hl = PROG_HASH_SEED;
    for (struct block* p = list; p; p = p->next) hl = prog_hash_words(hl, p->value, 7);
    uint64_t hro = prog_hash_words(PROG_HASH_SEED, ro_page, PAGE / 8);
    uint64_t zero_tail = 0;
    for (size_t i = map_used; i < MAP_WORDS; i += PAGE / 8) zero_tail |= map[i];

    total = prog_hash_words(total, (uint64_t[]){a, b, c, hh, hm, hs, hg, hl, hro}, 9);
    prog_say("step %2d heap=%016llx map=%016llx stack=%016llx globals=%016llx list=%016llx "
             "ro=%016llx zero_tail=%llu running=%016llx\n",
             step, (unsigned long long)hh, (unsigned long long)hm, (unsigned long long)hs,
             (unsigned long long)hg, (unsigned long long)hl, (unsigned long long)hro,
             (unsigned long long)zero_tail, (unsigned long long)total);
    prog_sleep_ms(STEP_MS);
  }
  prog_say("compute_mem: final checksum %016llx\n", (unsigned long long)total);
  return 0;
}
