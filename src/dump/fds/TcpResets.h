// TcpResets: the TCP connections a dump records as closed (--tcp-close, without
// --leave-running): cryo holds a copy of each socket and, once the dump has ended well, sets
// SO_LINGER {1, 0} on it so that killing the task sends the peer a reset. A dump that fails
// changes nothing.
#pragma once

#include <string>
#include <vector>

#include "common/UniqueFd.h"

namespace cryo {

class TcpResets {
 public:
  TcpResets();
  TcpResets(const TcpResets&) = delete;
  TcpResets& operator=(const TcpResets&) = delete;
  // Resets the connections if no exception is unwinding past the dump that made this.
  ~TcpResets();

  // `copy`: cryo's copy of the socket; `who` names it in messages.
  void add(UniqueFd copy, std::string who);

 private:
  struct Entry {
    UniqueFd fd;
    std::string who;
  };
  std::vector<Entry> entries_;
  int exceptionsAtStart_;
};

}  // namespace cryo
