/* prog_common.h: helpers shared by the checkpoint target programs (PRNG, checksums, line output, sleeping, the test gates). */
#ifndef CRYO_TEST_PROG_COMMON_H
#define CRYO_TEST_PROG_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* splitmix64: a small deterministic generator, good enough to scramble memory. */
static inline uint64_t prog_rand(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* FNV-1a over bytes, continuing from h. */
static inline uint64_t prog_hash_bytes(uint64_t h, const void* data, size_t len) {
  const unsigned char* p = (const unsigned char*)data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

#define PROG_HASH_SEED 0xCBF29CE484222325ull

/* A word-wise mix, fast enough to checksum several MiB every step. */
static inline uint64_t prog_hash_words(uint64_t h, const uint64_t* w, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= w[i] + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  }
  return h;
}

/* Writes all of buf to fd, retrying short writes and EINTR; exits on any other failure. */
static inline void prog_write_all(int fd, const void* buf, size_t len) {
  const char* p = (const char*)buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(90);
    p += n;
    len -= (size_t)n;
  }
}

/* Reads exactly len bytes from fd, retrying short reads and EINTR; dies on EOF or error. */
static inline void prog_read_all(int fd, void* buf, size_t len) {
  char* p = (char*)buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      static const char msg[] = "FATAL: short read from a pipe\n";
      prog_write_all(2, msg, sizeof msg - 1);
      _exit(99);
    }
    p += n;
    len -= (size_t)n;
  }
}

/* Prints one formatted line to stdout with a single write(), so nothing sits in a buffer. */
static inline void prog_say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void prog_say(const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) _exit(91);
  if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
  prog_write_all(1, buf, (size_t)n);
}

/* Prints a message to stderr and exits with a distinctive code: a broken invariant. */
static inline void prog_die(const char* what) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "FATAL: %s (errno %d: %s)\n", what, errno, strerror(errno));
  if (n > 0) prog_write_all(2, buf, (size_t)n);
  _exit(99);
}

/* Sleeps ms milliseconds; an interrupted sleep goes on for whatever time is left. */
static inline void prog_sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0) {
    if (errno != EINTR) prog_die("nanosleep");
  }
}

/* Holds the program, when CRYO_TEST_GATE names a file, until that file exists. A test that kills
   and restores the program places this before its last step, so that the kill always finds it
   running however late the checkpoints it waits for come; an uninterrupted run, without the
   variable, passes at once. Waiting, it has created GATE.reached. */
static inline void prog_gate(void) {
  const char* gate = getenv("CRYO_TEST_GATE");
  if (!gate || !*gate) return;
  if (access(gate, F_OK) == 0) return;
  /* Says it is there (GATE.reached): a test may look at the program while it holds still. A
     directory, made without opening anything: no fd of the program's changes meanwhile. */
  char reached[4096];
  int n = snprintf(reached, sizeof reached, "%s.reached", gate);
  if (n > 0 && (size_t)n < sizeof reached) mkdir(reached, 0700);
  while (access(gate, F_OK) != 0) prog_sleep_ms(10);
}

/* A gate of its own for one phase of a program that has several: holds the program, when
   CRYO_TEST_GATE names a file, until the file of that name followed by `suffix` (".burst")
   exists; without the variable it passes at once. */
static inline void prog_gate_named(const char* suffix) {
  const char* gate = getenv("CRYO_TEST_GATE");
  if (!gate || !*gate) return;
  char path[4096];
  int n = snprintf(path, sizeof path, "%s%s", gate, suffix);
  if (n < 0 || (size_t)n >= sizeof path) prog_die("CRYO_TEST_GATE is too long");
  while (access(path, F_OK) != 0) prog_sleep_ms(10);
}

#endif
