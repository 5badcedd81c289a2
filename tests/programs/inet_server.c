/* inet_server: a TCP server on 127.0.0.1 and on [::1] and a UDP socket on 127.0.0.1, each on a port the kernel picks (written to the file "ports" in the work directory), served through poll(): a TCP client's "ping N" lines are answered "pong N", "quit" makes it print its listening sockets' options and exit 0; a datagram is answered "udp <it>" at its sender. Prints what happens to connections (accepted, end of file, reset), never a port. Gives up after about 60 s without a quit. argv[1]: the work directory. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "prog_common.h"

#define MAX_CLIENTS 8

static int port_of(int s) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(s, (struct sockaddr*)&ss, &len) != 0) prog_die("getsockname");
  return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in*)&ss)->sin_port)
                                 : ntohs(((struct sockaddr_in6*)&ss)->sin6_port);
}

static int opt(int s, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  getsockopt(s, level, name, &v, &len);
  return v;
}

static int make(int family, int type) {
  int s = socket(family, type, 0);
  if (s < 0) prog_die("socket");
  int one = 1;
  if (type == SOCK_STREAM && setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)) prog_die("SO_REUSEADDR");
  if (family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)) prog_die("IPV6_V6ONLY");
  if (type == SOCK_STREAM && setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one)) prog_die("SO_KEEPALIVE");
  if (type == SOCK_STREAM && setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)) prog_die("TCP_NODELAY");
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in* a = (struct sockaddr_in*)&ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    struct sockaddr_in6* a = (struct sockaddr_in6*)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  if (bind(s, (struct sockaddr*)&ss, len) != 0) prog_die("bind");
  if (type == SOCK_STREAM && listen(s, 5) != 0) prog_die("listen");
  fcntl(s, F_SETFL, O_NONBLOCK);
  return s;
}

int main(int argc, char** argv) {
  if (argc < 2 || chdir(argv[1]) != 0) prog_die("chdir to the work directory");
  int tcp4 = make(AF_INET, SOCK_STREAM);
  int tcp6 = make(AF_INET6, SOCK_STREAM);
  int udp4 = make(AF_INET, SOCK_DGRAM);
  FILE* f = fopen("ports.tmp", "w");
  if (!f) prog_die("ports file");
  fprintf(f, "%d %d %d\n", port_of(tcp4), port_of(tcp6), port_of(udp4));
  fclose(f);
  if (rename("ports.tmp", "ports") != 0) prog_die("rename ports");
  prog_say("listening\n");

  int clients[MAX_CLIENTS];
  char pending[MAX_CLIENTS][256];
  size_t have[MAX_CLIENTS];
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i] = -1;
  for (int idle = 0; idle < 600;) {
    struct pollfd p[3 + MAX_CLIENTS];
    p[0].fd = tcp4;
    p[1].fd = tcp6;
    p[2].fd = udp4;
    for (int i = 0; i < MAX_CLIENTS; i++) p[3 + i].fd = clients[i];
    for (int i = 0; i < 3 + MAX_CLIENTS; i++) p[i].events = POLLIN, p[i].revents = 0;
    int n = poll(p, 3 + MAX_CLIENTS, 100);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) prog_die("poll");
    if (n == 0) {
      idle++;
      continue;
    }
    for (int l = 0; l < 2; l++) {
      if (!(p[l].revents & POLLIN)) continue;
      int c = accept4(p[l].fd, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0) continue;
      int slot = 0;
      while (slot < MAX_CLIENTS && clients[slot] >= 0) slot++;
      if (slot == MAX_CLIENTS) prog_die("too many clients");
      clients[slot] = c;
      have[slot] = 0;
      prog_say("accepted a connection over IPv%d\n", l == 0 ? 4 : 6);
    }
    if (p[2].revents & POLLIN) {
      char buf[512];
      struct sockaddr_storage from;
      socklen_t fromlen = sizeof from;
      ssize_t got = recvfrom(udp4, buf + 4, sizeof buf - 4, 0, (struct sockaddr*)&from, &fromlen);
      if (got > 0) {
        memcpy(buf, "udp ", 4);
        sendto(udp4, buf, (size_t)got + 4, 0, (struct sockaddr*)&from, fromlen);
        prog_say("datagram %.*s\n", (int)got, buf + 4);
      }
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
      if (clients[i] < 0 || !p[3 + i].revents) continue;
      ssize_t got = read(clients[i], pending[i] + have[i], sizeof pending[i] - have[i] - 1);
      if (got <= 0) {
        prog_say("connection %s\n", got == 0 ? "closed (end of file)"
                                   : errno == ECONNRESET ? "reset" : "failed");
        close(clients[i]);
        clients[i] = -1;
        continue;
      }
      have[i] += (size_t)got;
      char* nl;
      while ((nl = memchr(pending[i], '\n', have[i])) != NULL) {
        *nl = '\0';
        char reply[300];
        if (strcmp(pending[i], "quit") == 0) {
          prog_say("quit: reuseaddr %d keepalive %d nodelay %d v6only %d nonblock %d\n",
                   opt(tcp4, SOL_SOCKET, SO_REUSEADDR), opt(tcp4, SOL_SOCKET, SO_KEEPALIVE),
                   opt(tcp4, IPPROTO_TCP, TCP_NODELAY), opt(tcp6, IPPROTO_IPV6, IPV6_V6ONLY),
                   (fcntl(tcp4, F_GETFL) & O_NONBLOCK) != 0);
          prog_write_all(clients[i], "bye\n", 4);
          unlink("ports");
          return 0;
        }
        int len = snprintf(reply, sizeof reply, "pong %s\n",
                           strncmp(pending[i], "ping ", 5) == 0 ? pending[i] + 5 : "?");
        prog_write_all(clients[i], reply, (size_t)len);
        prog_say("request %s\n", pending[i]);
        size_t used = (size_t)(nl - pending[i]) + 1;
        memmove(pending[i], nl + 1, have[i] - used);
        have[i] -= used;
      }
    }
  }
  prog_say("no quit came\n");
  return 3;
}
