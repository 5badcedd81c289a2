// SocketOptions: integer socket options saved by a dump (img::SockOpt) set again on a new
// socket through cryo's copy of it, where its value differs from the saved one.
#include "restore/fds/SocketOptions.h"

#include <sys/socket.h>

#include "common/Error.h"

namespace cryo {

void SocketOptions::set(int fd, int level, int name, int value, const std::string& who) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
    failErrno("{}: setsockopt(level {}, option {}, {})", who, level, name, value);
}

void SocketOptions::apply(int fd, const List& opts, const std::string& who,
                          const std::function<bool(const img::SockOpt&)>& keep) {
  for (const auto& o : opts) {
    if (keep && !keep(o)) continue;
    int cur = 0;
    socklen_t len = sizeof cur;
    if (::getsockopt(fd, o.level(), o.name(), &cur, &len) != 0)
      failErrno("{}: getsockopt(level {}, option {})", who, o.level(), o.name());
    if (cur == o.value()) continue;
    if (o.level() == SOL_SOCKET && (o.name() == SO_SNDBUF || o.name() == SO_RCVBUF)) {
      // The kernel reports twice the size asked for; the FORCE variants pass the limits
      // (cryo runs as root).
      set(fd, SOL_SOCKET, o.name() == SO_SNDBUF ? SO_SNDBUFFORCE : SO_RCVBUFFORCE,
          o.value() / 2, who);
      continue;
    }
    set(fd, o.level(), o.name(), o.value(), who);
  }
}

int SocketOptions::value(const List& opts, int level, int name, int otherwise) {
  for (const auto& o : opts)
    if (o.level() == level && o.name() == name) return o.value();
  return otherwise;
}

}  // namespace cryo
