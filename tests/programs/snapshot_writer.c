/* snapshot_writer: a consistency target: two threads write a known sequence into their own large buffers, so the buffers are a pure function of the write count, and verify them whole every M writes: a restore from an inconsistent snapshot prints a MISMATCH.
 *
 * Thread 0 owns a 64 MiB buffer (16384 pages), thread 1 a 32 MiB one (8192 pages). For
 * seq = 1, 2, 3, ... a thread writes seq into page (seq * STRIDE) mod NPAGES of its buffer
 * (STRIDE odd, NPAGES a power of two, so the pages are visited in a scrambled order and every
 * NPAGES writes touch each page once). A write fills 8 words spread over the page: word 0 holds
 * seq itself, the others a mix of seq, the word's index and the buffer, so a page copied while
 * it was being written (half old, half new) is caught too. Before the first write every page
 * holds the pattern of seq 0. So after S writes page p holds the pattern of the largest
 * s <= S with s * STRIDE = p (mod NPAGES), or of 0 if there is none.
 *
 * The writes come in bursts of BURST at full speed with a 1 ms sleep after each: about 60000
 * page writes a second per thread, some 6000 distinct pages per 100 ms in each buffer (40 % of
 * thread 0's, 75 % of thread 1's), spread over the whole period, so a checkpoint copying while
 * the task runs always sees pages re-written during the copy.
 *
 * Every M writes both threads stop at a barrier after verifying their whole buffer against the
 * function, and thread 0 prints one line for both: `check <seq> ok`, or `check <seq> MISMATCH
 * buffer <b> page <p> has <v> expected <w> (<n> pages wrong)`. A page restored newer than the
 * rest (copied after the freeze instant) or older (a stale copy) is still wrong at the next
 * check unless re-written before it: the M writes in between reach a quarter of thread 0's
 * pages and half of thread 1's. After NCHECKS checks it prints a checksum of both
 * buffers and exits 0 (3 if a check failed). Its output depends on nothing but the sequence;
 * an uninterrupted run takes about 4.5 s. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>

#include "prog_common.h"

#define PAGE_WORDS 512u
#define WORDS_PER_WRITE 8u
#define BURST 64u
#define M 4096u     /* writes between two checks (per thread) */
#define NCHECKS 60u /* checks in a run */

static const unsigned kWordIndex[WORDS_PER_WRITE] = {0, 73, 146, 219, 292, 365, 438, 511};

struct buffer {
  uint64_t* words;
  uint64_t npages;
  uint64_t stride;
  uint64_t inverse; /* stride * inverse = 1 (mod npages) */
  uint64_t tag;
};

struct check_result {
  uint64_t bad_pages;
  uint64_t first_page;
  uint64_t has;
  uint64_t expected;
};

static struct buffer g_buf[2];
static pthread_barrier_t g_barrier;
/* Thread 1's result of check c is in g_result[c % 2]: it cannot get two checks ahead of
 * thread 0 (the barrier), so thread 0 always reads a result that is not being rewritten. */
static struct check_result g_result[2];

static uint64_t word_value(const struct buffer* b, uint64_t seq, unsigned k) {
  if (k == 0) return seq;
  return (seq * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)k << 56) ^ b->tag;
}

static void fill_page(struct buffer* b, uint64_t page, uint64_t seq) {
  uint64_t* w = b->words + page * PAGE_WORDS;
  for (unsigned k = 0; k < WORDS_PER_WRITE; k++) w[kWordIndex[k]] = word_value(b, seq, k);
}

/* The seq whose pattern page p holds after `done` writes (0: the initial pattern). */
static uint64_t expected_seq(const struct buffer* b, uint64_t page, uint64_t done) {
  uint64_t r = (page * b->inverse) % b->npages;
  if (done < r) return 0;
  return r + (done - r) / b->npages * b->npages;
}

static void init_buffer(struct buffer* b, uint64_t npages, uint64_t stride, uint64_t tag) {
  b->npages = npages;
  b->stride = stride;
  b->tag = tag;
  b->inverse = 0;
  for (uint64_t i = 1; i < npages; i++)
    if (stride * i % npages == 1) {
      b->inverse = i;
      break;
    }
  if (b->inverse == 0) prog_die("stride not coprime with the page count");
  b->words = mmap(NULL, npages * PAGE_WORDS * 8, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b->words == MAP_FAILED) prog_die("mmap");
  for (uint64_t p = 0; p < npages; p++) fill_page(b, p, 0);
}

/* Writes seq = done+1 .. done+M, in bursts with a short sleep after each. */
static void write_span(struct buffer* b, uint64_t done) {
  for (uint64_t seq = done + 1; seq <= done + M; seq++) {
    fill_page(b, seq * b->stride % b->npages, seq);
    if (seq % BURST == 0) prog_sleep_ms(1);
  }
}

static struct check_result verify(const struct buffer* b, uint64_t done) {
  struct check_result res = {0, 0, 0, 0};
  for (uint64_t p = 0; p < b->npages; p++) {
    uint64_t want = expected_seq(b, p, done);
    const uint64_t* w = b->words + p * PAGE_WORDS;
    int bad = 0;
    for (unsigned k = 0; k < WORDS_PER_WRITE; k++)
      if (w[kWordIndex[k]] != word_value(b, want, k)) bad = 1;
    if (!bad) continue;
    if (res.bad_pages++ == 0) {
      res.first_page = p;
      res.has = w[0];
      res.expected = want;
    }
  }
  return res;
}

static void* second_writer(void* arg) {
  (void)arg;
  struct buffer* b = &g_buf[1];
  for (uint64_t c = 1; c <= NCHECKS; c++) {
    write_span(b, (c - 1) * M);
    g_result[c % 2] = verify(b, c * M);
    pthread_barrier_wait(&g_barrier);
  }
  return NULL;
}

static int report(uint64_t seq, int b, const struct check_result* r) {
  if (r->bad_pages == 0) return 0;
  prog_say("check %llu MISMATCH buffer %d page %llu has %llu expected %llu (%llu pages wrong)\n",
           (unsigned long long)seq, b, (unsigned long long)r->first_page,
           (unsigned long long)r->has, (unsigned long long)r->expected,
           (unsigned long long)r->bad_pages);
  return 1;
}

int main(void) {
  init_buffer(&g_buf[0], 16384, 7919, 0x5A5A000000000000ull);
  init_buffer(&g_buf[1], 8192, 3001, 0xA5A5000000000000ull);
  prog_say("snapshot_writer: buffers of %llu and %llu pages, check every %u writes\n",
           (unsigned long long)g_buf[0].npages, (unsigned long long)g_buf[1].npages, M);
  if (pthread_barrier_init(&g_barrier, NULL, 2) != 0) prog_die("pthread_barrier_init");
  pthread_t t;
  if (pthread_create(&t, NULL, second_writer, NULL) != 0) prog_die("pthread_create");
  int failed = 0;
  for (uint64_t c = 1; c <= NCHECKS; c++) {
    write_span(&g_buf[0], (c - 1) * M);
    struct check_result mine = verify(&g_buf[0], c * M);
    pthread_barrier_wait(&g_barrier);
    struct check_result theirs = g_result[c % 2];
    int bad = report(c * M, 0, &mine);
    bad |= report(c * M, 1, &theirs);
    if (!bad) prog_say("check %llu ok\n", (unsigned long long)(c * M));
    failed |= bad;
  }
  if (pthread_join(t, NULL) != 0) prog_die("pthread_join");
  uint64_t h = PROG_HASH_SEED;
  for (int b = 0; b < 2; b++)
    h = prog_hash_words(h, g_buf[b].words, g_buf[b].npages * PAGE_WORDS);
  prog_say("done %llu writes per thread, checksum %016llx\n", (unsigned long long)(NCHECKS * M),
           (unsigned long long)h);
  return failed ? 3 : 0;
}
