/* deleted_files DIR: files deleted while the program still uses them, used again after the test
 * gate (a checkpoint and restore in between must change nothing it sees):
 * - wo.txt, opened write-only, written, its offset moved, then unlinked;
 * - sparse.bin, 80 MiB with data at a few places (holes elsewhere), unlinked;
 * - dense.bin, 3 MiB of data, unlinked, its offset at the end;
 * - shared.bin, kept open read-write and mapped MAP_SHARED twice (the second from offset 4096),
 *   unlinked, then written through the mapping;
 * - private.bin, mapped MAP_PRIVATE with one page changed privately, its fd closed, unlinked;
 * - fifo, a named pipe opened at both ends with bytes in it, unlinked;
 * - a child with a description of its own of shared.bin (one file for the tree).
 * After the gate it prints what it sees of each: names as /proc shows them (without the
 * directory), sizes, offsets, access modes, whether the file is still sparse, checksums of the
 * contents, whether the fd and the mapping of shared.bin are one inode (fstat against
 * /proc/self/map_files), writes through the mapping read back through the fd and the other way,
 * and the bytes of the FIFO. No inode numbers, no pids. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include "prog_common.h"

#define MIB (1024L * 1024L)
#define SPARSE_SIZE (80 * MIB + 123)
#define DENSE_SIZE (3 * MIB)
#define MAP_SIZE (4 * 4096L)

static char g_dir[2048];

static const char* path(const char* name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
  return buf;
}

static int make(const char* name, int flags) {
  int fd = open(path(name), flags | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) prog_die(name);
  return fd;
}

static void gone(const char* name) {
  if (unlink(path(name)) != 0) prog_die(name);
}

static void fill(uint64_t seed, char* buf, size_t len) {
  uint64_t s = seed;
  for (size_t i = 0; i < len; i++) buf[i] = (char)('a' + prog_rand(&s) % 26);
}

static void put(int fd, const void* buf, size_t len, off_t at) {
  if (pwrite(fd, buf, len, at) != (ssize_t)len) prog_die("pwrite");
}

/* The name /proc shows for fd (the part after the last '/'). */
static const char* shown(int fd) {
  static char link[4096];
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(p, link, sizeof link - 1);
  if (n < 0) prog_die("readlink");
  link[n] = 0;
  const char* slash = strrchr(link, '/');
  return slash ? slash + 1 : link;
}

/* Checksum of the whole file, read through a description of its own (/proc/self/fd/N). */
static uint64_t file_hash(int fd, off_t size) {
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  int r = open(p, O_RDONLY | O_CLOEXEC);
  if (r < 0) prog_die("reopen");
  static char buf[1 << 20];
  uint64_t h = PROG_HASH_SEED;
  off_t at = 0;
  while (at < size) {
    ssize_t n = pread(r, buf, sizeof buf, at);
    if (n <= 0) prog_die("pread");
    h = prog_hash_bytes(h, buf, (size_t)n);
    at += n;
  }
  close(r);
  return h;
}

static void report(const char* what, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) prog_die("fstat");
  const char* acc[] = {"r", "w", "rw", "?"};
  prog_say("%s: shown '%s' links %lu size %lld pos %lld access %s hash %016llx\n", what,
           shown(fd), (unsigned long)st.st_nlink, (long long)st.st_size,
           (long long)lseek(fd, 0, SEEK_CUR), acc[fcntl(fd, F_GETFL) & O_ACCMODE],
           (unsigned long long)file_hash(fd, st.st_size));
}

static int same_inode(int fd, void* map, size_t len) {
  char p[128];
  snprintf(p, sizeof p, "/proc/self/map_files/%lx-%lx", (unsigned long)map,
           (unsigned long)map + len);
  struct stat a, b;
  if (fstat(fd, &a) != 0 || stat(p, &b) != 0) prog_die("stat map_files");
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The child: its own description of shared.bin (reopened), written after the gate; it exits 0
   if that description is read-write and the same inode as the parent's, 3 if not (it prints
   nothing: its lines would race with the parent's). */
static pid_t start_child(int shared) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) prog_die("pipe");
  pid_t pid = fork();
  if (pid < 0) prog_die("fork");
  if (pid == 0) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", shared);
    int own = open(p, O_RDWR | O_CLOEXEC);
    if (own < 0) prog_die("child reopen");
    prog_write_all(ready[1], "r", 1);
    close(ready[0]);
    close(ready[1]);
    prog_gate();
    put(own, "from the child", 14, 12000);
    struct stat a, b;
    if (fstat(own, &a) != 0 || fstat(shared, &b) != 0) prog_die("child fstat");
    _exit((fcntl(own, F_GETFL) & O_ACCMODE) == O_RDWR && a.st_ino == b.st_ino &&
                  a.st_dev == b.st_dev
              ? 0
              : 3);
  }
  char c;
  prog_read_all(ready[0], &c, 1);
  close(ready[0]);
  close(ready[1]);
  return pid;
}

int main(int argc, char** argv) {
  if (argc < 2) prog_die("usage: deleted_files DIR");
  snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
  static char buf[DENSE_SIZE];

  int wo = make("wo.txt", O_WRONLY);
  fill(1, buf, 3000);
  put(wo, buf, 3000, 0);
  if (lseek(wo, 1234, SEEK_SET) != 1234) prog_die("lseek");
  gone("wo.txt");

  int sparse = make("sparse.bin", O_RDWR);
  fill(2, buf, 3 * 4096);
  put(sparse, buf, 100, 0);
  put(sparse, buf + 100, 3 * 4096, 20 * MIB + 100);
  put(sparse, buf + 200, 50, 70 * MIB - 7);
  if (ftruncate(sparse, SPARSE_SIZE) != 0) prog_die("ftruncate");
  put(sparse, "end", 3, SPARSE_SIZE - 3);
  if (lseek(sparse, 5000, SEEK_SET) != 5000) prog_die("lseek");
  gone("sparse.bin");

  int dense = make("dense.bin", O_RDWR);
  fill(3, buf, DENSE_SIZE);
  prog_write_all(dense, buf, DENSE_SIZE);
  gone("dense.bin");

  int shared = make("shared.bin", O_RDWR);
  fill(4, buf, MAP_SIZE);
  put(shared, buf, MAP_SIZE, 0);
  char* smap = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shared, 0);
  char* sview = mmap(NULL, MAP_SIZE - 4096, PROT_READ, MAP_SHARED, shared, 4096);
  if (smap == MAP_FAILED || sview == MAP_FAILED) prog_die("mmap shared");
  gone("shared.bin");
  memcpy(smap + 100, "written through the shared mapping", 34);

  int pfd = make("private.bin", O_RDWR);
  fill(5, buf, MAP_SIZE);
  put(pfd, buf, MAP_SIZE, 0);
  char* pmap = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, pfd, 0);
  if (pmap == MAP_FAILED) prog_die("mmap private");
  close(pfd);
  gone("private.bin");
  memcpy(pmap + 4096 + 10, "a private change", 16);

  pid_t child = start_child(shared);

  if (mkfifo(path("fifo"), 0620) != 0) prog_die("mkfifo");
  int rd = open(path("fifo"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int wr = open(path("fifo"), O_WRONLY | O_CLOEXEC);
  if (rd < 0 || wr < 0) prog_die("open fifo");
  gone("fifo");
  prog_write_all(wr, "bytes left in the deleted fifo", 30);

  prog_say("deleted_files: ready\n");
  prog_gate();

  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) prog_die("child");
  prog_say("shared.bin: the child's own description, one inode with ours: %s; its write seen "
           "through the mapping '%.14s'\n",
           WEXITSTATUS(status) == 0 ? "yes" : "no", smap + 12000);
  report("wo.txt", wo);
  prog_write_all(wo, "after", 5);
  report("wo.txt after a write", wo);

  report("sparse.bin", sparse);
  struct stat st;
  if (fstat(sparse, &st) != 0) prog_die("fstat");
  prog_say("sparse.bin: sparse %s\n", (long long)st.st_blocks * 512 < 8 * MIB ? "yes" : "no");
  report("dense.bin", dense);

  report("shared.bin", shared);
  prog_say("shared.bin: fd and mapping one inode: %s %s\n",
           same_inode(shared, smap, MAP_SIZE) ? "yes" : "no",
           same_inode(shared, sview, MAP_SIZE - 4096) ? "yes" : "no");
  memcpy(smap + 5000, "through the map", 15);
  char got[64] = {0};
  if (pread(shared, got, 15, 5000) != 15) prog_die("pread shared");
  prog_say("shared.bin: fd reads '%s', second mapping '%.15s'\n", got, sview + 5000 - 4096);
  put(shared, "through the fd", 14, 8000);
  prog_say("shared.bin: mapping reads '%.14s' '%.34s'\n", smap + 8000, smap + 100);

  uint64_t h0 = prog_hash_bytes(PROG_HASH_SEED, pmap, 4096);
  uint64_t h1 = prog_hash_bytes(PROG_HASH_SEED, pmap + 4096, 3 * 4096);
  prog_say("private.bin: pages %016llx %016llx change '%.16s'\n", (unsigned long long)h0,
           (unsigned long long)h1, pmap + 4096 + 10);
  pmap[0] = 'Z';  /* copied on write: the file keeps its byte */

  struct stat a, b;
  if (fstat(rd, &a) != 0 || fstat(wr, &b) != 0) prog_die("fstat fifo");
  prog_say("fifo: shown '%s' links %lu one pipe %s\n", shown(rd), (unsigned long)a.st_nlink,
           a.st_ino == b.st_ino ? "yes" : "no");
  char fb[128] = {0};
  ssize_t n = read(rd, fb, sizeof fb - 1);
  prog_say("fifo: read %zd '%s'\n", n, n > 0 ? fb : "");
  prog_write_all(wr, "more", 4);
  memset(fb, 0, sizeof fb);
  n = read(rd, fb, sizeof fb - 1);
  prog_say("fifo: read %zd '%s'\n", n, n > 0 ? fb : "");
  prog_say("deleted_files: done\n");
  return 0;
}
