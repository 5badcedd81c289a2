// TcpResets: the TCP connections a dump records as closed (--tcp-close, without
// --leave-running): cryo holds a copy of each socket and, once the dump has ended well, sets
// SO_LINGER {1, 0} on it so that killing the task sends the peer a reset. A dump that fails
// changes nothing.
#include "dump/fds/TcpResets.h"

#include <sys/socket.h>

#include <cstring>
#include <exception>

#include <spdlog/spdlog.h>

namespace cryo {

TcpResets::TcpResets() : exceptionsAtStart_(std::uncaught_exceptions()) {}

TcpResets::~TcpResets() {
  if (std::uncaught_exceptions() > exceptionsAtStart_) return;  // the dump failed
  for (auto& e : entries_) {
    linger l{1, 0};
    if (::setsockopt(e.fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0)
      spdlog::warn("{}: cannot set SO_LINGER to reset the connection: {}", e.who,
                   std::strerror(errno));
    else
      spdlog::debug("{}: the connection is reset when the task dies", e.who);
  }
}

void TcpResets::add(UniqueFd copy, std::string who) {
  entries_.push_back({std::move(copy), std::move(who)});
}

}  // namespace cryo
