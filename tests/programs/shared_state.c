/* shared_state MODE: holds one kind of state cryo refuses to checkpoint, then counts steps:
 * lease (a read lease, F_SETLEASE, on a file of its work directory), flock_outside (a flock
 * lock on a description it shares with a process outside its tree: a grandchild whose parent
 * has exited, which holds it until the gate opens), flock_mapped (a flock lock held only by a
 * mapping of the file: its fd closed after mmap), clone_sighand (a child made by clone()
 * sharing its signal handlers), files_siblings (two children made by clone() with CLONE_FILES,
 * whose parent then leaves their fd table: they share one their parent does not). Prints "ready" once the state is in
 * place; waits at the test gate (CRYO_TEST_GATE) before its last step. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "prog_common.h"

#define STEPS 10

static volatile int g_stop;
static pid_t g_second = -1;  /* files_siblings: the second child */

static int child_main(void* arg) {
  (void)arg;
  while (!g_stop) prog_sleep_ms(10);
  return 0;
}

static void lock_file(const char* mode) {
  int fd = open("locked.bin", O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) prog_die("open locked.bin");
  if (!strcmp(mode, "lease") && fcntl(fd, F_SETLEASE, F_RDLCK) != 0) prog_die("F_SETLEASE");
  if (!strcmp(mode, "flock_mapped")) {
    int rw = open("mapped.bin", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (rw < 0 || ftruncate(rw, 4096) != 0 || flock(rw, LOCK_EX) != 0) prog_die("flock_mapped");
    if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, rw, 0) == MAP_FAILED) prog_die("mmap");
    close(rw);
  }
  if (strcmp(mode, "flock_outside") != 0) return;
  if (flock(fd, LOCK_EX) != 0) prog_die("flock");
  pid_t c = fork();
  if (c < 0) prog_die("fork");
  if (c == 0) {  /* leaves a grandchild holding the description, outside the tree */
    if (fork() == 0) {
      prog_gate();
      _exit(0);
    }
    _exit(0);
  }
  if (waitpid(c, NULL, 0) != c) prog_die("waitpid");
}

static pid_t clone_sharing(const char* mode) {
  static char stack[256 * 1024];
  static char stack2[256 * 1024];
  int flags = SIGCHLD;
  if (!strcmp(mode, "files_siblings")) flags |= CLONE_FILES;
  if (!strcmp(mode, "clone_sighand")) flags |= CLONE_SIGHAND | CLONE_VM;
  pid_t c = clone(child_main, stack + sizeof stack, flags, NULL);
  if (c < 0) prog_die("clone");
  if (strcmp(mode, "files_siblings") != 0) return c;
  g_second = clone(child_main, stack2 + sizeof stack2, flags, NULL);
  if (g_second < 0) prog_die("clone");
  if (unshare(CLONE_FILES) != 0) prog_die("unshare");
  return c;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  pid_t child = -1;
  if (strstr(mode, "lease") || strstr(mode, "flock")) lock_file(mode);
  else child = clone_sharing(mode);
  prog_say("ready\n");
  uint64_t sum = PROG_HASH_SEED;
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    prog_sleep_ms(20);
    sum = prog_hash_bytes(sum, &step, sizeof step);
    prog_say("step %d\n", step);
  }
  if (child > 0) {
    if (strcmp(mode, "clone_sighand") == 0) g_stop = 1;  /* shares our memory */
    else kill(child, SIGKILL);
    waitpid(child, NULL, 0);
  }
  if (g_second > 0) {
    kill(g_second, SIGKILL);
    waitpid(g_second, NULL, 0);
  }
  prog_say("checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
