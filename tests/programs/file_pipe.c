/* file_pipe: reads an input file in chunks and echoes it through an O_APPEND file, a dup'ed scratch fd, a pipe holding bytes between steps, /dev/null, /dev/urandom and a directory fd; held after its last chunk, before its final checks, by the test gate. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>

#include "prog_common.h"

#define CHUNK 96
#define STEP_MS 110
#define MAX_STEPS 64

/* Copies text so it prints on one line: newlines become '|', other control bytes '.'. */
static void printable(char* dst, const char* src, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = src[i];
    dst[i] = c == '\n' ? '|' : ((unsigned char)c < 32 || (unsigned char)c > 126) ? '.' : c;
  }
  dst[n] = '\0';
}

static ssize_t read_retry(int fd, void* buf, size_t n) {
  for (;;) {
    ssize_t r = read(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    prog_say("usage: file_pipe INPUT WORKDIR\n");
    return 2;
  }
  int in_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) prog_die("open input");
  int dir_fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) prog_die("open workdir");
  int app_fd = openat(dir_fd, "append.out", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (app_fd < 0) prog_die("open append.out");
  int scratch_fd = openat(dir_fd, "scratch.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (scratch_fd < 0) prog_die("open scratch.bin");
  int scratch_dup = dup(scratch_fd);
  if (scratch_dup < 0) prog_die("dup scratch");
  int pfd[2];
  if (pipe(pfd) != 0) prog_die("pipe");
  int null_fd = open("/dev/null", O_WRONLY);
  if (null_fd < 0) prog_die("open /dev/null");
  int rnd_fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (rnd_fd < 0) prog_die("open /dev/urandom");

  struct stat in_st;
  if (fstat(in_fd, &in_st) != 0) prog_die("fstat input");
  prog_say("file_pipe: input is %lld bytes, chunk %d\n", (long long)in_st.st_size, CHUNK);

  uint64_t total = PROG_HASH_SEED;
  size_t pipe_pending = 0;
  int step = 0;
  for (; step < MAX_STEPS; step++) {
    char buf[CHUNK + 1], shown[CHUNK + 1];
    ssize_t n = read_retry(in_fd, buf, CHUNK);
    if (n < 0) prog_die("read input");
    if (n == 0) break;
    off_t in_pos = lseek(in_fd, 0, SEEK_CUR);
    printable(shown, buf, (size_t)n);
    prog_say("step %2d read %zd bytes, input offset now %lld: [%s]\n", step, n,
             (long long)in_pos, shown);

    /* The bytes written into the pipe one step earlier come back now. */
    if (pipe_pending > 0) {
      char back[256];
      ssize_t got = read_retry(pfd[0], back, pipe_pending);
      if (got != (ssize_t)pipe_pending) prog_die("short read from pipe");
      back[got] = '\0';
      prog_say("step %2d pipe gave back %zd bytes: %s\n", step, got, back);
      total = prog_hash_bytes(total, back, (size_t)got);
    }
    char msg[128];
    int m = snprintf(msg, sizeof msg, "<pipe message of step %d, input offset %lld>", step,
                     (long long)in_pos);
    prog_write_all(pfd[1], msg, (size_t)m);
    pipe_pending = (size_t)m;

    /* The O_APPEND file gets one line per step, upper-cased. */
    char line[CHUNK + 32];
    int ln = snprintf(line, sizeof line, "%02d:", step);
    for (ssize_t i = 0; i < n; i++) {
      char c = shown[i];
      line[ln++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    line[ln++] = '\n';
    prog_write_all(app_fd, line, (size_t)ln);
    struct stat app_st;
    if (fstatat(dir_fd, "append.out", &app_st, 0) != 0) prog_die("fstatat append.out");

    /* Writes through one fd move the offset seen through its dup. */
    prog_write_all(scratch_fd, buf, (size_t)n);
    off_t shared = lseek(scratch_dup, 0, SEEK_CUR);
    prog_say("step %2d append.out is %lld bytes, scratch offset via dup %lld\n", step,
             (long long)app_st.st_size, (long long)shared);
    if (step % 4 == 3) {
      /* Read the scratch file back through the dup, then continue where this run's writes end
       * (not SEEK_END: after a crash and restore the file may hold bytes the lost run wrote). */
      char back[CHUNK * 4];
      off_t start = shared - (off_t)sizeof back;
      if (start < 0) start = 0;
      if (lseek(scratch_dup, start, SEEK_SET) != start) prog_die("lseek scratch");
      ssize_t got = read_retry(scratch_dup, back, sizeof back);
      if (got < 0) prog_die("read scratch");
      off_t after = lseek(scratch_fd, 0, SEEK_CUR);
      prog_say("step %2d scratch read back %zd bytes from %lld, hash %016llx, offset %lld\n",
               step, got, (long long)start,
               (unsigned long long)prog_hash_bytes(PROG_HASH_SEED, back, (size_t)got),
               (long long)after);
      if (lseek(scratch_fd, shared, SEEK_SET) != shared) prog_die("lseek back");
    }

    prog_write_all(null_fd, buf, (size_t)n);
    unsigned char noise[64];
    ssize_t rn = read_retry(rnd_fd, noise, 16 + (size_t)(step % 32));
    prog_say("step %2d /dev/urandom gave %zd bytes\n", step, rn);

    total = prog_hash_bytes(total, buf, (size_t)n);
    prog_sleep_ms(STEP_MS);
  }
  prog_gate();

  if (pipe_pending > 0) {
    char back[256];
    ssize_t got = read_retry(pfd[0], back, pipe_pending);
    if (got != (ssize_t)pipe_pending) prog_die("short final read from pipe");
    back[got] = '\0';
    prog_say("end: pipe gave back %zd bytes: %s\n", got, back);
  }

  int check_fd = openat(dir_fd, "append.out", O_RDONLY | O_CLOEXEC);
  if (check_fd < 0) prog_die("reopen append.out");
  uint64_t app_hash = PROG_HASH_SEED;
  long long app_len = 0;
  for (;;) {
    char b[4096];
    ssize_t r = read_retry(check_fd, b, sizeof b);
    if (r < 0) prog_die("read append.out");
    if (r == 0) break;
    app_hash = prog_hash_bytes(app_hash, b, (size_t)r);
    app_len += r;
  }
  close(check_fd);
  prog_say("file_pipe: %d steps, append.out %lld bytes checksum %016llx\n", step, app_len,
           (unsigned long long)app_hash);
  prog_say("file_pipe: final checksum %016llx\n", (unsigned long long)(total ^ app_hash));
  return 0;
}
