/* shared_tables DIR: processes that share what clone() lets processes share without being
 * threads, proved after the test gate by what each sees of the others:
 * - main clones `sharer` with CLONE_FILES | CLONE_FS (one fd table, one cwd/root/umask);
 * - sharer clones `inner` with CLONE_FILES only (the same fd table, a cwd of its own);
 * - main forks `own` (copies of both).
 * After the gate: the sharer opens a file and main reads it through the number the sharer
 * names (an fd main never opened); inner closes an fd main opened before the gate and main
 * finds it closed; main changes directory and umask and the sharer sees both, inner and own
 * see neither; own opens a file and main does not see it at that number. Output has no fd
 * numbers and no pids. Everyone starts in DIR/top with umask 022; the sharer exits after
 * inner, its child. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "prog_common.h"

enum { CMD_OPEN = 'o', CMD_CLOSE = 'c', CMD_LOOK = 'l', CMD_EXIT = 'x' };

static char g_dir[2048];
static int g_ack[2];

static const char* path(const char* name) {
  static char buf[2][4096];
  static int next;
  char* p = buf[next++ % 2];
  snprintf(p, 4096, "%s/%s", g_dir, name);
  return p;
}

/* A child made by the raw clone system call (no CLONE_VM: it runs on a copy of the stack). */
static pid_t clone_with(unsigned long flags) {
  long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (r < 0) prog_die("clone");
  return (pid_t)r;
}

static void ack_int(int v) { prog_write_all(g_ack[1], &v, sizeof v); }

static int wait_ack(void) {
  int v;
  prog_read_all(g_ack[0], &v, sizeof v);
  return v;
}

static void send_cmd(int cmd_fd, char c) { prog_write_all(cmd_fd, &c, 1); }

static const char* cwd_name(void) {
  static char buf[4096];
  if (!getcwd(buf, sizeof buf)) prog_die("getcwd");
  const char* slash = strrchr(buf, '/');
  return slash ? slash + 1 : buf;
}

static mode_t current_umask(void) {
  mode_t m = umask(0);
  umask(m);
  return m;
}

/* What a child does on each command; `name` says who it is; on exit it first reaps `child`. */
static void serve(const char* name, int cmd_fd, int victim, pid_t child) {
  for (;;) {
    char c;
    prog_read_all(cmd_fd, &c, 1);
    if (c == CMD_OPEN) {
      int fd = open(path(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) prog_die("open");
      prog_write_all(fd, name, strlen(name));
      ack_int(fd);
    } else if (c == CMD_CLOSE) {
      ack_int(close(victim) == 0 ? 1 : 0);
    } else if (c == CMD_LOOK) {
      prog_say("%s: cwd %s, umask %03o\n", name, cwd_name(), (unsigned)current_umask());
      ack_int(0);
    } else {
      if (child > 0 && waitpid(child, NULL, 0) != child) prog_die("waitpid");
      _exit(0);
    }
  }
}

/* Whether main's fd `fd` is open on the file `name` of DIR. */
static int is_file(int fd, const char* name) {
  struct stat a, b;
  if (fstat(fd, &a) != 0) return 0;
  if (stat(path(name), &b) != 0) prog_die("stat");
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int main(int argc, char** argv) {
  if (argc < 2) prog_die("usage: shared_tables DIR");
  snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
  umask(022);
  if (mkdir(path("sub"), 0755) != 0 && errno != EEXIST) prog_die("mkdir sub");
  if (mkdir(path("top"), 0755) != 0 && errno != EEXIST) prog_die("mkdir top");
  if (chdir(path("top")) != 0) prog_die("chdir top");
  int victim = open(path("victim"), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (victim < 0) prog_die("open victim");
  int to_sharer[2], to_inner[2], to_own[2];
  if (pipe(g_ack) != 0 || pipe(to_sharer) != 0 || pipe(to_inner) != 0 || pipe(to_own) != 0)
    prog_die("pipe");

  pid_t sharer = clone_with(CLONE_FILES | CLONE_FS);
  if (sharer == 0) {
    pid_t inner = clone_with(CLONE_FILES);
    if (inner == 0) serve("inner", to_inner[0], victim, 0);
    ack_int(0);  /* inner exists: the tree is complete before the gate */
    serve("sharer", to_sharer[0], victim, inner);
  }
  wait_ack();
  pid_t own = fork();
  if (own < 0) prog_die("fork");
  if (own == 0) serve("own", to_own[0], victim, 0);
  prog_say("started\n");
  prog_gate();

  send_cmd(to_sharer[1], CMD_OPEN);
  int fd = wait_ack();
  char buf[16] = {0};
  if (pread(fd, buf, sizeof buf - 1, 0) < 0) prog_die("pread");
  prog_say("main reads the sharer's new fd: %s\n", buf);

  send_cmd(to_inner[1], CMD_CLOSE);
  int closed = wait_ack();
  prog_say("inner closed main's fd: %s; main finds it %s\n", closed ? "yes" : "no",
           fcntl(victim, F_GETFD) < 0 && errno == EBADF ? "closed" : "open");

  if (chdir(path("sub")) != 0) prog_die("chdir");
  umask(027);
  send_cmd(to_sharer[1], CMD_LOOK);
  wait_ack();
  send_cmd(to_inner[1], CMD_LOOK);
  wait_ack();
  send_cmd(to_own[1], CMD_LOOK);
  wait_ack();

  send_cmd(to_own[1], CMD_OPEN);
  int theirs = wait_ack();
  prog_say("main's fd at own's new number is own's file: %s\n", is_file(theirs, "own") ? "yes" : "no");

  send_cmd(to_own[1], CMD_EXIT);
  send_cmd(to_inner[1], CMD_EXIT);
  send_cmd(to_sharer[1], CMD_EXIT);
  waitpid(own, NULL, 0);
  waitpid(sharer, NULL, 0);
  prog_say("done\n");
  return 0;
}
