/* shared_state MODE: holds one kind of state cryo refuses to checkpoint, then counts steps:
 * posix_lock, ofd_lock, flock (a lock on a file of its work directory), clone_files, clone_fs,
 * clone_sighand (a child made by clone() sharing that table with it). Prints "ready" once the
 * state is in place; waits at the test gate (CRYO_TEST_GATE) before its last step. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "prog_common.h"

#define STEPS 10

static volatile int g_stop;

static int child_main(void* arg) {
  (void)arg;
  while (!g_stop) prog_sleep_ms(10);
  return 0;
}

static void lock_file(const char* mode) {
  int fd = open("locked.bin", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) prog_die("open locked.bin");
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
  if (!strcmp(mode, "posix_lock") && fcntl(fd, F_SETLK, &fl) != 0) prog_die("F_SETLK");
  if (!strcmp(mode, "ofd_lock") && fcntl(fd, F_OFD_SETLK, &fl) != 0) prog_die("F_OFD_SETLK");
  if (!strcmp(mode, "flock") && flock(fd, LOCK_EX) != 0) prog_die("flock");
}

static pid_t clone_sharing(const char* mode) {
  static char stack[256 * 1024];
  int flags = SIGCHLD;
  if (!strcmp(mode, "clone_files")) flags |= CLONE_FILES;
  if (!strcmp(mode, "clone_fs")) flags |= CLONE_FS;
  if (!strcmp(mode, "clone_sighand")) flags |= CLONE_SIGHAND | CLONE_VM;
  pid_t c = clone(child_main, stack + sizeof stack, flags, NULL);
  if (c < 0) prog_die("clone");
  return c;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  pid_t child = -1;
  if (strstr(mode, "lock")) lock_file(mode);
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
  prog_say("checksum %016llx\n", (unsigned long long)sum);
  return 0;
}
