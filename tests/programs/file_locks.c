/* file_locks DIR: holds file locks of every kind on files of DIR, then proves after the test
 * gate that each is still held, by its owner, on its range:
 * - main's POSIX record locks through fd A: WRITE 0-99, READ 200-299, WRITE 1000 to EOF;
 * - OFD locks on description B (shared with the child): WRITE 100-149, READ 300-399;
 * - the child's own POSIX locks (its own description): READ 250-349, WRITE 600-699;
 * - flock LOCK_EX on ex.bin taken by main, description shared with the child;
 * - flock LOCK_SH on sh.bin taken by the child through a description shared with main;
 * - flock LOCK_EX on gone.bin taken by a child that has exited since (its description kept by
 *   main).
 * After the gate a prober forked then (a process of its own, with descriptions of its own)
 * prints what conflicts where (F_OFD_GETLK / flock LOCK_NB), the child and main print what
 * they see themselves (F_GETLK: their own POSIX locks never conflict with them), then the
 * locks are let go one owner at a time (main closes another fd of locks.bin: all its POSIX
 * locks go; the child closes its copies: the shared descriptions keep theirs; main closes
 * them: gone) with the prober run after each. Output has no pids: owners are named. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "prog_common.h"

static pid_t g_main, g_child;
static char g_dir[2048];

static const char* path(const char* name) {
  static char buf[4][4096];
  static int next;
  char* p = buf[next++ % 4];
  snprintf(p, 4096, "%s/%s", g_dir, name);
  return p;
}

static int open_rw(const char* name) {
  int fd = open(path(name), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) prog_die(name);
  return fd;
}

static void record_lock(int fd, int cmd, short type, off_t start, off_t len) {
  struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
  if (fcntl(fd, cmd, &fl) != 0) prog_die("record lock");
}

static const char* owner(pid_t pid) {
  if (pid == -1) return "an OFD lock";
  if (pid == g_main) return "main";
  if (pid == g_child) return "the child";
  return "another process";
}

/* What a write (or read) lock of one byte at `at` through `fd` meets, by `how`. */
static void probe_range(const char* who, int fd, int cmd, short type, off_t at) {
  struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};
  if (fcntl(fd, cmd, &fl) != 0) prog_die("getlk");
  if (fl.l_type == F_UNLCK) {
    prog_say("%s: %s byte %lld: free\n", who, type == F_WRLCK ? "write" : "read", (long long)at);
    return;
  }
  prog_say("%s: %s byte %lld: %s %s lock %lld+%lld\n", who, type == F_WRLCK ? "write" : "read",
           (long long)at, owner(fl.l_pid), fl.l_type == F_WRLCK ? "WRITE" : "READ",
           (long long)fl.l_start, (long long)fl.l_len);
}

static const off_t kBytes[] = {0, 99, 100, 149, 150, 200, 250, 299, 300, 349, 399, 400,
                               600, 699, 700, 999, 1000, (off_t)1 << 40};

static void probe_ranges(const char* who, int fd, int cmd) {
  for (size_t i = 0; i < sizeof kBytes / sizeof kBytes[0]; i++) {
    probe_range(who, fd, cmd, F_WRLCK, kBytes[i]);
    probe_range(who, fd, cmd, F_RDLCK, kBytes[i]);
  }
}

static void probe_flock(const char* name) {
  int fd = open_rw(name);
  const char* sh = flock(fd, LOCK_SH | LOCK_NB) == 0 ? "free" : "held";
  flock(fd, LOCK_UN);
  const char* ex = flock(fd, LOCK_EX | LOCK_NB) == 0 ? "free" : "held";
  close(fd);
  prog_say("prober: flock %s: shared %s, exclusive %s\n", name, sh, ex);
}

/* A new process, with descriptions of its own: every lock of the others conflicts with it. */
static void run_prober(const char* stage) {
  pid_t p = fork();
  if (p < 0) prog_die("fork prober");
  if (p == 0) {
    prog_say("prober: %s\n", stage);
    int fd = open_rw("locks.bin");
    probe_ranges("prober", fd, F_OFD_GETLK);
    probe_flock("ex.bin");
    probe_flock("sh.bin");
    probe_flock("gone.bin");
    _exit(0);
  }
  int st;
  if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) prog_die("prober");
}

static void child_main(int cmd, int ack, int fdB, int fdEx, int fdSh, int fdGone) {
  int own = open_rw("locks.bin");
  record_lock(own, F_SETLK, F_RDLCK, 250, 100);
  record_lock(own, F_SETLK, F_WRLCK, 600, 100);
  if (flock(fdSh, LOCK_SH) != 0) prog_die("child flock sh");
  prog_write_all(ack, "r", 1);
  for (;;) {
    char c;
    prog_read_all(cmd, &c, 1);
    if (c == 'P') {  /* what the child sees of the others' locks */
      probe_ranges("child", own, F_GETLK);
    } else if (c == 'C') {  /* its copies of the shared descriptions */
      close(fdB);
      close(fdEx);
      close(fdSh);
      close(fdGone);
    } else {
      _exit(0);
    }
    prog_write_all(ack, "a", 1);
  }
}

static void tell(int cmd, int ack, char c) {
  prog_write_all(cmd, &c, 1);
  char a;
  prog_read_all(ack, &a, 1);
}

int main(int argc, char** argv) {
  if (argc < 2) prog_die("usage: file_locks DIR");
  snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
  g_main = getpid();
  int fdA = open_rw("locks.bin");
  if (ftruncate(fdA, 4096) != 0) prog_die("ftruncate");
  record_lock(fdA, F_SETLK, F_WRLCK, 0, 100);
  record_lock(fdA, F_SETLK, F_RDLCK, 200, 100);
  record_lock(fdA, F_SETLK, F_WRLCK, 1000, 0);
  int fdB = open_rw("locks.bin");
  record_lock(fdB, F_OFD_SETLK, F_WRLCK, 100, 50);
  record_lock(fdB, F_OFD_SETLK, F_RDLCK, 300, 100);
  int fdEx = open_rw("ex.bin"), fdSh = open_rw("sh.bin"), fdGone = open_rw("gone.bin");
  if (flock(fdEx, LOCK_EX) != 0) prog_die("flock ex");
  pid_t gone = fork();
  if (gone < 0) prog_die("fork");
  if (gone == 0) _exit(flock(fdGone, LOCK_EX) == 0 ? 0 : 1);
  int st;
  if (waitpid(gone, &st, 0) != gone || !WIFEXITED(st) || WEXITSTATUS(st)) prog_die("flock gone");

  int cmd[2], ack[2];
  if (pipe(cmd) != 0 || pipe(ack) != 0) prog_die("pipe");
  g_child = fork();
  if (g_child < 0) prog_die("fork child");
  if (g_child == 0) {
    close(cmd[1]);
    close(ack[0]);
    child_main(cmd[0], ack[1], fdB, fdEx, fdSh, fdGone);
  }
  close(cmd[0]);
  close(ack[1]);
  char r;
  prog_read_all(ack[0], &r, 1);
  prog_say("ready\n");

  prog_gate();

  run_prober("all held");
  tell(cmd[1], ack[0], 'P');
  probe_ranges("main", fdA, F_GETLK);
  /* Closing any fd of a file drops every POSIX lock the process holds on it, nothing else. */
  close(open_rw("locks.bin"));
  run_prober("main's POSIX locks dropped");
  tell(cmd[1], ack[0], 'C');
  run_prober("the child's copies closed");
  close(fdB);
  close(fdEx);
  close(fdSh);
  close(fdGone);
  run_prober("main's copies closed");
  prog_write_all(cmd[1], "Q", 1);
  if (waitpid(g_child, &st, 0) != g_child || !WIFEXITED(st) || WEXITSTATUS(st)) prog_die("child");
  prog_say("done\n");
  return 0;
}
