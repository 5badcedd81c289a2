/* unix_backlog_rights: UNIX connections waiting in a listener's backlog and files in flight, held across the test gate. A parent listens on a stream socket (srv.sock) and a seqpacket one (seq.sock); two of its clients (one bound to c2.sock) and one of its child's connect to the stream listener and one to the seqpacket listener, none accepted. Over a seqpacket socketpair the parent sends to the child "head:", then "FD1" with a file it keeps open (at offset 5) and the read end of a pipe holding bytes (closed here: only in flight), then "tail"; over a datagram pair "M1", then "M2" with the write end of a pipe whose read end it keeps and a file only in flight (at offset 3); the child sends the parent "CF" with a file only it holds (at offset 2). Past the gate the clients say who they are, the parent accepts and prints each connection's peer, name and words in order, receives "CF" and reads its file; then the child receives, reads and seeks the files it got, reads the pipe to its end and writes into the other; the parent prints the offsets it shares with the child and what came through the pipe. With "sent", a client sends data before it is accepted; with "eventfd", an eventfd is in flight alone; with "stream", a file is in flight over a stream socketpair: states cryo refuses. Usage: unix_backlog_rights [DIR [sent|eventfd|stream]], in DIR (a directory of its own) or the current one. */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "prog_common.h"

static socklen_t addr_of(struct sockaddr_un* a, const char* path) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strncpy(a->sun_path, path, sizeof a->sun_path - 1);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static int sock(int type) {
  int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (s < 0) prog_die("socket");
  return s;
}

static int listener(int type, const char* path, int backlog) {
  int s = sock(type);
  struct sockaddr_un a;
  socklen_t len = addr_of(&a, path);
  unlink(path);
  if (bind(s, (struct sockaddr*)&a, len) != 0) prog_die("bind");
  if (listen(s, backlog) != 0) prog_die("listen");
  return s;
}

static int client(int type, const char* path, const char* bindTo) {
  int s = sock(type);
  struct sockaddr_un a;
  socklen_t len;
  if (bindTo) {
    len = addr_of(&a, bindTo);
    unlink(bindTo);
    if (bind(s, (struct sockaddr*)&a, len) != 0) prog_die("bind client");
  }
  len = addr_of(&a, path);
  if (connect(s, (struct sockaddr*)&a, len) != 0) prog_die("connect");
  return s;
}

static int open_at(const char* path, const char* text, off_t off) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) prog_die("open");
  prog_write_all(fd, text, strlen(text));
  if (lseek(fd, off, SEEK_SET) != off) prog_die("lseek");
  return fd;
}

/* Sends `text` with `n` files attached (SCM_RIGHTS). */
static void send_with(int s, const char* text, const int* fds, int n) {
  char control[CMSG_SPACE(sizeof(int) * 4)];
  memset(control, 0, sizeof control);
  struct iovec iov = {(void*)text, strlen(text)};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  if (sendmsg(s, &m, 0) != (ssize_t)strlen(text)) prog_die("sendmsg");
}

/* Receives up to `cap` bytes and the files with them; prints what came. */
static int recv_with(int s, const char* what, size_t cap, int* fds) {
  char buf[256];
  char control[CMSG_SPACE(sizeof(int) * 8)];
  struct iovec iov = {buf, cap < sizeof buf - 1 ? cap : sizeof buf - 1};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
  if (n < 0) prog_die(what);
  buf[n] = 0;
  int count = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      memcpy(fds + count, CMSG_DATA(c), sizeof(int) * k);
      count += k;
    }
  prog_say("%s: '%s' with %d file(s)%s\n", what, buf, count,
           (m.msg_flags & MSG_CTRUNC) ? " (truncated)" : "");
  return count;
}

static void print_name(const char* what, const struct sockaddr_un* a, socklen_t len) {
  if (len <= offsetof(struct sockaddr_un, sun_path))
    prog_say("%s (unnamed)\n", what);
  else
    prog_say("%s '%s'\n", what, a->sun_path);
}

/* Accepts the next waiting connection and prints its peer, its name and its words. */
static void accept_one(int l, int i) {
  struct sockaddr_un a;
  socklen_t len = sizeof a;
  memset(&a, 0, sizeof a);
  int s = accept4(l, (struct sockaddr*)&a, &len, SOCK_CLOEXEC);
  if (s < 0) prog_die("accept");
  char what[64];
  snprintf(what, sizeof what, "accepted %d: peer", i);
  print_name(what, &a, len);
  len = sizeof a;
  memset(&a, 0, sizeof a);
  if (getsockname(s, (struct sockaddr*)&a, &len) != 0) prog_die("getsockname");
  snprintf(what, sizeof what, "accepted %d: name", i);
  print_name(what, &a, len);
  char buf[64];
  ssize_t n = recv(s, buf, sizeof buf - 1, 0);
  if (n < 0) prog_die("recv accepted");
  buf[n] = 0;
  prog_say("accepted %d: says '%s'\n", i, buf);
  close(s);
}

static void read_file(int fd, const char* what, size_t n) {
  char buf[64];
  off_t at = lseek(fd, 0, SEEK_CUR);
  ssize_t k = read(fd, buf, n);
  if (k < 0) prog_die(what);
  buf[k] = 0;
  prog_say("%s: at %ld read '%s'\n", what, (long)at, buf);
}

static void child(int sp, int qp, int ready, int go, int done) {
  int c3 = client(SOCK_STREAM, "srv.sock", NULL);
  int cf = open_at("child.txt", "0123456789", 2);
  send_with(sp, "CF", &cf, 1);
  prog_write_all(ready, "r", 1);
  char b;
  prog_read_all(go, &b, 1);  /* (the parent passes its gate first) */
  prog_write_all(c3, "c3", 2);
  prog_read_all(go, &b, 1);  /* the parent has done its part */
  int fds[8];
  recv_with(sp, "child seqpacket", 64, fds);
  if (recv_with(sp, "child seqpacket", 64, fds) != 2) prog_die("FD1 files");
  read_file(fds[0], "child shared file", 4);
  char pipeBuf[64];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fds[1], pipeBuf + got, sizeof pipeBuf - 1 - got);
    if (n < 0) prog_die("read pipe");
    if (n == 0) break;
    got += (size_t)n;
  }
  pipeBuf[got] = 0;
  prog_say("child pipe: '%s' then end of file\n", pipeBuf);
  recv_with(sp, "child seqpacket", 64, fds + 2);
  recv_with(qp, "child datagram", 64, fds + 2);
  if (recv_with(qp, "child datagram", 64, fds + 2) != 2) prog_die("M2 files");
  prog_write_all(fds[2], "via-w2", 6);
  close(fds[2]);
  read_file(fds[3], "child file in flight alone", 4);
  prog_say("child: its own file now at %ld\n", (long)lseek(cf, 0, SEEK_CUR));
  prog_write_all(done, "d", 1);
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc > 1 && chdir(argv[1]) != 0) prog_die("chdir");
  const char* mode = argc > 2 ? argv[2] : "";
  int l = listener(SOCK_STREAM, "srv.sock", 8);
  int ql = listener(SOCK_SEQPACKET, "seq.sock", 4);
  int c1 = client(SOCK_STREAM, "srv.sock", NULL);
  int c2 = client(SOCK_STREAM, "srv.sock", "c2.sock");
  int s1 = client(SOCK_SEQPACKET, "seq.sock", NULL);
  if (strcmp(mode, "sent") == 0) prog_write_all(c2, "early", 5);
  int sp[2], qp[2], pr[2], p2[2], ready[2], go[2], done[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) prog_die("socketpair");
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, qp) != 0) prog_die("socketpair");
  if (pipe2(pr, O_CLOEXEC) != 0 || pipe2(p2, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0 ||
      pipe2(go, O_CLOEXEC) != 0 || pipe2(done, O_CLOEXEC) != 0)
    prog_die("pipe2");
  int f = open_at("shared.txt", "abcdefghijklmnop", 5);
  int alone = open_at("alone.txt", "ABCDEFGHIJ", 3);
  prog_write_all(pr[1], "pipe-bytes", 10);
  close(pr[1]);
  if (send(sp[0], "head:", 5, 0) != 5) prog_die("send head");
  int fd1[2] = {f, pr[0]};
  send_with(sp[0], "FD1", fd1, 2);
  close(pr[0]);  /* only in flight now */
  if (send(sp[0], "tail", 4, 0) != 4) prog_die("send tail");
  if (send(qp[0], "M1", 2, 0) != 2) prog_die("send M1");
  int m2[2] = {p2[1], alone};
  send_with(qp[0], "M2", m2, 2);
  close(p2[1]);
  close(alone);
  if (strcmp(mode, "eventfd") == 0) {
    int e = eventfd(7, EFD_CLOEXEC);
    if (e < 0) prog_die("eventfd");
    send_with(qp[0], "EV", &e, 1);
    close(e);
  }
  int sst[2] = {-1, -1};
  if (strcmp(mode, "stream") == 0) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sst) != 0) prog_die("socketpair");
    send_with(sst[0], "ST", &f, 1);
  }

  pid_t pid = fork();
  if (pid < 0) prog_die("fork");
  if (pid == 0) {
    close(l), close(ql), close(c1), close(c2), close(s1), close(sp[0]), close(qp[0]);
    close(f), close(p2[0]), close(ready[0]), close(go[1]), close(done[0]);
    child(sp[1], qp[1], ready[1], go[0], done[1]);
  }
  close(sp[1]), close(qp[1]), close(ready[1]), close(go[0]), close(done[1]);
  char b;
  prog_read_all(ready[0], &b, 1);
  prog_gate();
  prog_write_all(go[1], "g", 1);
  prog_write_all(c1, "c1", 2);
  prog_write_all(c2, "c2", 2);
  if (send(s1, "s1", 2, 0) != 2) prog_die("send s1");
  for (int i = 1; i <= 3; ++i) accept_one(l, i);
  accept_one(ql, 4);
  int fds[8];
  if (recv_with(sp[0], "parent seqpacket", 64, fds) != 1) prog_die("CF files");
  read_file(fds[0], "parent got the child's file", 3);
  prog_write_all(go[1], "g", 1);
  prog_read_all(done[0], &b, 1);
  prog_say("parent: shared file now at %ld\n", (long)lseek(f, 0, SEEK_CUR));
  char buf[8] = {0};
  prog_read_all(p2[0], buf, 6);
  prog_say("parent pipe: '%s'\n", buf);
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) prog_die("waitpid");
  prog_say("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return 0;
}
