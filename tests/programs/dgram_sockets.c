/* dgram_sockets: UNIX datagram sockets held across the test gate: one unbound and unconnected, a server bound to a relative path with datagrams queued from an unbound sender, from a client bound to a relative path and connected to it, and from another named client; beside them a stream socket bound to a relative path but neither listening nor connected, and an unbound seqpacket one. Past the gate it reads the datagrams (with their senders), answers, listens on the stream socket and connects to it, and blocks in recv() until SIGTERM ends it. Run in a directory of its own. */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

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

static int dgram(void) { return sock(SOCK_DGRAM); }

static void bind_to(int s, const char* path) {
  struct sockaddr_un a;
  socklen_t len = addr_of(&a, path);
  unlink(path);
  if (bind(s, (struct sockaddr*)&a, len) != 0) prog_die("bind");
}

/* Reads one datagram and prints it with its sender's name. */
static void take(int s, const char* what) {
  char buf[256];
  struct sockaddr_un from;
  socklen_t flen = sizeof from;
  memset(&from, 0, sizeof from);
  ssize_t n = recvfrom(s, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr*)&from, &flen);
  if (n < 0) prog_die(what);
  buf[n] = 0;
  prog_say("%s: '%s' from '%s'\n", what, buf,
           flen > offsetof(struct sockaddr_un, sun_path) ? from.sun_path : "");
}

int main(void) {
  int lone = dgram();   /* unbound, unconnected, never used */
  int server = dgram(); /* bound to a relative path */
  int anon = dgram();   /* unbound, sends with sendto */
  int client = dgram(); /* bound, connected to the server */
  int named = dgram();  /* bound, sends with sendto */
  bind_to(server, "srv.sock");
  bind_to(client, "cli.sock");
  bind_to(named, "named.sock");
  int stream = sock(SOCK_STREAM); /* bound, not listening yet */
  int seqpacket = sock(SOCK_SEQPACKET);
  bind_to(stream, "stream.sock");
  struct sockaddr_un srv;
  socklen_t srvlen = addr_of(&srv, "srv.sock");
  if (connect(client, (struct sockaddr*)&srv, srvlen) != 0) prog_die("connect");
  if (sendto(anon, "from anon", 9, 0, (struct sockaddr*)&srv, srvlen) != 9) prog_die("sendto");
  if (send(client, "from client", 11, 0) != 11) prog_die("send");
  if (sendto(named, "from named", 10, 0, (struct sockaddr*)&srv, srvlen) != 10) prog_die("sendto");
  int off = 0; /* the server peeks from an offset (SO_PEEK_OFF) */
  if (setsockopt(server, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off) != 0) prog_die("SO_PEEK_OFF");
  prog_say("ready\n");
  prog_gate();
  for (int i = 0; i < 3; i++) take(server, "server");
  struct sockaddr_un cli;
  socklen_t clilen = addr_of(&cli, "cli.sock");
  if (sendto(server, "to client", 9, 0, (struct sockaddr*)&cli, clilen) != 9) prog_die("reply");
  take(client, "client");
  if (send(lone, "x", 1, MSG_DONTWAIT) >= 0 || errno != ENOTCONN) prog_die("lone socket sends");
  prog_say("lone socket: not connected\n");
  if (listen(stream, 4) != 0) prog_die("listen");
  struct sockaddr_un st;
  socklen_t stlen = addr_of(&st, "stream.sock");
  if (connect(sock(SOCK_STREAM), (struct sockaddr*)&st, stlen) != 0) prog_die("connect stream");
  int accepted = accept(stream, NULL, NULL);
  if (accepted < 0) prog_die("accept");
  prog_say("stream socket: listened, connected, accepted\n");
  if (send(seqpacket, "x", 1, MSG_NOSIGNAL) >= 0 || errno != ENOTCONN) prog_die("seqpacket sends");
  prog_say("seqpacket socket: not connected\n");
  prog_say("waiting\n");
  char buf[16];
  recv(server, buf, sizeof buf, 0); /* until SIGTERM */
  prog_say("recv returned\n");
  return 3;
}
