/* inotify_watches: two inotify instances at fds 7 (non-blocking: a directory, three files, one watch removed, leaving a hole in the wds) and 8 (blocking, one watch), held across the test gate; past it, changes what they watch and prints the events each reports, then adds a watch and prints its wd. Run in a directory of its own. */
#define _GNU_SOURCE
#include <sys/inotify.h>
#include <sys/stat.h>

#include "prog_common.h"

static void touch(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) prog_die(path);
  close(fd);
}

static int watch(int in, const char* path, uint32_t mask) {
  int wd = inotify_add_watch(in, path, mask);
  if (wd < 0) prog_die("inotify_add_watch");
  prog_say("watch %s wd %d\n", path, wd);
  return wd;
}

/* Prints every event queued in `in` (a non-blocking one until none is left; a blocking one
   once). */
static void print_events(int in, const char* what, int blocking) {
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) prog_die("read inotify");
    for (char* p = buf; p < buf + n;) {
      struct inotify_event* e = (struct inotify_event*)p;
      prog_say("%s: wd %d mask %#x name '%s'\n", what, e->wd, e->mask, e->len ? e->name : "");
      p += sizeof *e + e->len;
    }
    if (blocking) return;
  }
}

int main(void) {
  if (mkdir("d", 0700) != 0 && errno != EEXIST) prog_die("mkdir");
  touch("a");
  touch("b");
  touch("c");
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  int in2 = inotify_init1(0);
  if (in < 0 || in2 < 0 || dup2(in, 7) != 7 || dup2(in2, 8) != 8) prog_die("inotify_init1");
  close(in);
  close(in2);
  watch(7, "d", IN_CREATE | IN_DELETE | IN_ONLYDIR);
  watch(7, "a", IN_MODIFY | IN_EXCL_UNLINK);
  int gone = watch(7, "b", IN_MODIFY);
  watch(7, "c", IN_CLOSE_WRITE | IN_ONESHOT);
  if (inotify_rm_watch(7, gone) != 0) prog_die("inotify_rm_watch");
  print_events(7, "removed", 0); /* its IN_IGNORED */
  watch(8, "d", IN_CREATE);
  prog_gate();
  touch("d/new");
  int fd = open("a", O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) prog_die("open a");
  prog_write_all(fd, "x", 1);
  close(fd);
  fd = open("c", O_WRONLY | O_CLOEXEC);
  if (fd < 0) prog_die("open c");
  close(fd);
  unlink("d/new");
  print_events(7, "fd 7", 0);
  print_events(8, "fd 8", 1);
  watch(7, "b", IN_ATTRIB);
  prog_say("done\n");
  return 0;
}
