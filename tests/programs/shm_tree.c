/* shm_tree: a parent and two children sharing four kinds of memory: a MAP_SHARED anonymous mapping, a memfd (mapped by all, and read by the parent through its fd), a POSIX shared memory file in /dev/shm (shm_open) and a System V segment (removed with IPC_RMID once all are attached). Each step every child writes its slot in each; the parent checks that it sees all of them, through each way of sharing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include "prog_common.h"

#define CHILDREN 2
#define STEPS 16
#define STEP_MS 100
#define REGION (64u << 10)
#define KINDS 4
#define SLOT_WORDS 512

static uint64_t value(int kind, int child, int step, size_t i) {
  return ((uint64_t)kind << 56) ^ ((uint64_t)child << 48) ^ ((uint64_t)step << 32) ^ (i * 2654435761u);
}

int main(void) {
  uint64_t* region[KINDS];
  region[0] = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int mfd = memfd_create("shm_tree", MFD_CLOEXEC);
  if (mfd < 0 || ftruncate(mfd, REGION) != 0) prog_die("memfd");
  region[1] = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  char name[64];
  snprintf(name, sizeof name, "/cryo-shm-tree-%d", (int)getpid());
  int pfd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (pfd < 0 || ftruncate(pfd, REGION) != 0) prog_die("shm_open");
  region[2] = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
  close(pfd);
  int sid = shmget(IPC_PRIVATE, REGION, IPC_CREAT | 0600);
  if (sid < 0) prog_die("shmget");
  region[3] = shmat(sid, NULL, 0);
  for (int k = 0; k < KINDS; k++)
    if (region[k] == MAP_FAILED || region[k] == (void*)-1) prog_die("map");

  int work[CHILDREN], back[CHILDREN];
  pid_t kids[CHILDREN];
  for (int c = 0; c < CHILDREN; c++) {
    int w[2], b[2];
    if (pipe(w) != 0 || pipe(b) != 0) prog_die("pipe");
    kids[c] = fork();
    if (kids[c] < 0) prog_die("fork");
    if (kids[c] == 0) {
      close(w[1]);
      close(b[0]);
      for (;;) {
        int32_t step;
        prog_read_all(w[0], &step, sizeof step);
        if (step < 0) _exit(0);
        prog_sleep_ms(STEP_MS);
        for (int k = 0; k < KINDS; k++) {
          uint64_t* slot = region[k] + (size_t)c * SLOT_WORDS;
          for (size_t i = 0; i < SLOT_WORDS; i++) slot[i] = value(k, c, step, i);
        }
        prog_write_all(b[1], &step, sizeof step);
      }
    }
    close(w[0]);
    close(b[1]);
    work[c] = w[1];
    back[c] = b[0];
  }
  /* All are attached: the segment now goes when the last of them detaches. */
  if (shmctl(sid, IPC_RMID, NULL) != 0) prog_die("IPC_RMID");

  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    for (int c = 0; c < CHILDREN; c++) prog_write_all(work[c], &step, sizeof step);
    for (int c = 0; c < CHILDREN; c++) {
      int32_t done;
      prog_read_all(back[c], &done, sizeof done);
      if (done != step) prog_die("wrong step");
    }
    char seen[KINDS + 1];
    for (int k = 0; k < KINDS; k++) {
      int ok = 1;
      for (int c = 0; c < CHILDREN; c++)
        for (size_t i = 0; i < SLOT_WORDS; i++)
          if (region[k][(size_t)c * SLOT_WORDS + i] != value(k, c, step, i)) ok = 0;
      seen[k] = ok ? 'y' : 'n';
    }
    seen[KINDS] = 0;
    /* The memfd's fd reads what the mappings hold. */
    uint64_t word = 0;
    if (pread(mfd, &word, sizeof word, (off_t)SLOT_WORDS * 8) != sizeof word) prog_die("pread");
    prog_say("step %2d: shared anon/memfd/posix/sysv seen %s, memfd fd %s\n", step, seen,
             word == value(1, 1, step, 0) ? "agrees" : "DISAGREES");
  }
  int32_t stop = -1;
  for (int c = 0; c < CHILDREN; c++) {
    prog_write_all(work[c], &stop, sizeof stop);
    int st;
    if (waitpid(kids[c], &st, 0) != kids[c] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
      prog_die("child");
  }
  shm_unlink(name);
  prog_say("done\n");
  return 0;
}
