/* unix_sockets: UNIX sockets of one process with data queued across most instants: stream, datagram and seqpacket socketpairs (messages of several sizes, boundaries checked), a stream pair shut down for writing and one whose peer is closed (bytes, then end of file), listening sockets on a relative path in the working dir and on an abstract name (a connect+accept pair on each carrying data, and a fresh connection every step), and a datagram server bound to a path served by a connected client and by a named client that gets replies at its address. argv[1]: the work directory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "prog_common.h"

#define STEPS 18
#define SLEEP_MS 85

static uint64_t hash = PROG_HASH_SEED;

static socklen_t addr_of(struct sockaddr_un* sa, const char* name, int abstract) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (abstract) {
    memcpy(sa->sun_path + 1, name, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
  }
  memcpy(sa->sun_path, name, n);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

static int listener(const char* name, int abstract) {
  struct sockaddr_un sa;
  socklen_t len = addr_of(&sa, name, abstract);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || bind(s, (struct sockaddr*)&sa, len) != 0 || listen(s, 7) != 0) prog_die("listener");
  return s;
}

static void connect_pair(const char* name, int abstract, int lsock, int* c, int* a) {
  struct sockaddr_un sa;
  socklen_t len = addr_of(&sa, name, abstract);
  *c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*c < 0 || connect(*c, (struct sockaddr*)&sa, len) != 0) prog_die("connect");
  *a = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  if (*a < 0) prog_die("accept");
}

/* The message number k of a stream: its bytes depend on the step and the kind. */
static size_t message(char* buf, int step, int kind, int k) {
  size_t len = (size_t)(1 + (step * 37 + kind * 101 + k * 53) % 700);
  for (size_t i = 0; i < len; i++) buf[i] = (char)('a' + (step + kind + k + (int)i) % 26);
  return len;
}

static void expect_bytes(int fd, const char* want, size_t len, const char* what) {
  char got[2048];
  size_t done = 0;
  while (done < len) {
    ssize_t n = recv(fd, got + done, len - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) prog_die(what);
    done += (size_t)n;
  }
  if (memcmp(got, want, len) != 0) {
    prog_say("MISMATCH in %s\n", what);
    _exit(98);
  }
  hash = prog_hash_bytes(hash, got, len);
}

static void expect_message(int fd, const char* want, size_t len, const char* what) {
  char got[2048];
  ssize_t n;
  do {
    n = recv(fd, got, sizeof got, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) prog_die(what);
  if ((size_t)n != len || memcmp(got, want, len) != 0) {
    prog_say("MISMATCH in %s (%zd bytes, expected %zu)\n", what, n, len);
    _exit(98);
  }
  hash = prog_hash_bytes(hash, got, len);
}

static void expect_eof(int fd, const char* what) {
  char c;
  ssize_t n;
  do {
    n = recv(fd, &c, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n != 0) {
    prog_say("MISMATCH: %s: no end of file (%zd)\n", what, n);
    _exit(98);
  }
}

static void send_all(int fd, const char* buf, size_t len, const char* what) {
  if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) prog_die(what);
}

int main(int argc, char** argv) {
  if (argc < 2 || chdir(argv[1]) != 0) prog_die("chdir to the work directory");
  char abstract_name[64];
  snprintf(abstract_name, sizeof abstract_name, "cryo-unix-sockets-%d", (int)getpid());

  int st[2], dg[2], sq[2], half[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sq) ||
      socketpair(AF_UNIX, SOCK_STREAM, 0, half))
    prog_die("socketpair");
  int lpath = listener("listen.sock", 0);
  int labs = listener(abstract_name, 1);
  int c1, a1, c2, a2;
  connect_pair("listen.sock", 0, lpath, &c1, &a1);
  connect_pair(abstract_name, 1, labs, &c2, &a2);
  fcntl(a2, F_SETFL, O_NONBLOCK);

  /* A datagram server on a path, a client connected to it, a named client it replies to. */
  struct sockaddr_un srv, cli;
  socklen_t srvlen = addr_of(&srv, "dgram.sock", 0);
  socklen_t clilen = addr_of(&cli, "client.sock", 0);
  int server = socket(AF_UNIX, SOCK_DGRAM, 0);
  int conn = socket(AF_UNIX, SOCK_DGRAM, 0);
  int named = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (server < 0 || bind(server, (struct sockaddr*)&srv, srvlen) != 0) prog_die("dgram server");
  if (conn < 0 || connect(conn, (struct sockaddr*)&srv, srvlen) != 0) prog_die("dgram connect");
  if (named < 0 || bind(named, (struct sockaddr*)&cli, clilen) != 0) prog_die("dgram client");

  int dead = -1; /* a stream end whose peer is closed, read a little every step */
  size_t dead_left = 0, dead_off = 0;
  char dead_data[600];
  for (size_t i = 0; i < sizeof dead_data; i++) dead_data[i] = (char)('A' + i % 23);

  char buf[2048], want[2048];
  for (int step = 0; step < STEPS; step++) {
    if (step == STEPS - 1) prog_gate();
    if (step > 0) {
      int p = step - 1; /* what the previous step left queued */
      size_t n = message(want, p, 0, 0);
      expect_bytes(st[1], want, n, "stream pair");
      for (int k = 0; k < 3; k++) {
        n = message(want, p, 1, k);
        expect_message(dg[0], want, n, "datagram pair");
      }
      for (int k = 0; k < 2; k++) {
        n = message(want, p, 2, k);
        expect_message(sq[1], want, n, "seqpacket pair");
      }
      n = message(want, p, 3, 0);
      expect_bytes(a1, want, n, "path connection");
      n = message(want, p, 4, 0);
      expect_bytes(c2, want, n, "abstract connection");
      n = message(want, p, 5, 0);
      expect_message(server, want, n, "connected datagram client");
      /* The named client's request: answered at the sender's address. */
      struct sockaddr_un from;
      socklen_t fromlen = sizeof from;
      n = message(want, p, 6, 0);
      ssize_t got = recvfrom(server, buf, sizeof buf, 0, (struct sockaddr*)&from, &fromlen);
      if (got != (ssize_t)n || memcmp(buf, want, n) != 0) prog_die("named datagram client");
      if (fromlen <= offsetof(struct sockaddr_un, sun_path) || strcmp(from.sun_path, "client.sock") != 0) {
        prog_say("MISMATCH: datagram sender has no name\n");
        _exit(98);
      }
      if (sendto(server, "ack", 3, 0, (struct sockaddr*)&from, fromlen) != 3) prog_die("reply");
      expect_message(named, "ack", 3, "reply to the named client");
      if (dead >= 0) {
        size_t take = dead_left < 60 ? dead_left : 60;
        if (take) expect_bytes(dead, dead_data + dead_off, take, "closed peer's bytes");
        dead_off += take;
        dead_left -= take;
        if (!dead_left) {
          expect_eof(dead, "stream whose peer is closed");
          close(dead);
          dead = -1;
          prog_say("step %2d: the closed peer's bytes are all read, then end of file\n", step);
        }
      }
    }
    /* A fresh connection on each listener. */
    int c, a;
    connect_pair("listen.sock", 0, lpath, &c, &a);
    send_all(c, "hello", 5, "fresh connection");
    expect_bytes(a, "hello", 5, "fresh connection");
    close(c);
    close(a);
    connect_pair(abstract_name, 1, labs, &c, &a);
    send_all(a, "hi", 2, "fresh abstract connection");
    expect_bytes(c, "hi", 2, "fresh abstract connection");
    close(c);
    close(a);

    /* The half-closed pair: bytes, then end of file on one side only, the other way open. */
    if (step == 8) {
      send_all(half[0], "last words", 10, "half-closed pair");
      shutdown(half[0], SHUT_WR);
    }
    if (step == 13) {
      expect_bytes(half[1], "last words", 10, "half-closed pair");
      expect_eof(half[1], "half-closed pair");
      send_all(half[1], "reply", 5, "half-closed pair, other way");
      expect_bytes(half[0], "reply", 5, "half-closed pair, other way");
      prog_say("step %2d: half-closed pair: bytes, end of file, and the other way open\n", step);
    }
    if (step == 4) {
      int x[2];
      if (socketpair(AF_UNIX, SOCK_STREAM, 0, x)) prog_die("socketpair");
      send_all(x[1], dead_data, sizeof dead_data, "closed peer");
      close(x[1]);
      dead = x[0];
      dead_left = sizeof dead_data;
      dead_off = 0;
    }
    if (step < STEPS - 1) {
      size_t n = message(buf, step, 0, 0);
      send_all(st[0], buf, n, "stream pair");
      for (int k = 0; k < 3; k++) {
        n = message(buf, step, 1, k);
        send_all(dg[1], buf, n, "datagram pair");
      }
      for (int k = 0; k < 2; k++) {
        n = message(buf, step, 2, k);
        send_all(sq[0], buf, n, "seqpacket pair");
      }
      n = message(buf, step, 3, 0);
      send_all(c1, buf, n, "path connection");
      n = message(buf, step, 4, 0);
      send_all(a2, buf, n, "abstract connection");
      n = message(buf, step, 5, 0);
      send_all(conn, buf, n, "connected datagram client");
      n = message(buf, step, 6, 0);
      if (sendto(named, buf, n, 0, (struct sockaddr*)&srv, srvlen) != (ssize_t)n)
        prog_die("named datagram client");
    }
    prog_say("step %2d: queues checked, hash %016llx\n", step, (unsigned long long)hash);
    prog_sleep_ms(SLEEP_MS);
  }
  unlink("listen.sock");
  unlink("dgram.sock");
  unlink("client.sock");
  prog_say("done %016llx\n", (unsigned long long)hash);
  return 0;
}
