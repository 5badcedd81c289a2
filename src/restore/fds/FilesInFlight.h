// FilesInFlight: the open files that ride with queued UNIX socket messages (SCM_RIGHTS) at
// restore: an fd of the tree, taken from the restored process that has it, or a regular file or
// pipe end that only the queue kept, made once like an fd of its kind; a message is sent again
// with them attached.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/PidFd.h"
#include "common/UniqueFd.h"
#include "cryo.pb.h"

namespace cryo {

class FdInstaller;
class RestoreContext;

class FilesInFlight {
 public:
  // Whether a message queued in `s` carries files.
  static bool carried(const img::UnixSocket& s);
  // Whether every file in flight in the queue of `s` exists now: the processes holding them
  // have their fds restored (the current one included).
  static bool ready(RestoreContext& ctx, const img::UnixSocket& s);
  // Checks, before anything is built, the files in flight in the queue of `s`.
  void validate(RestoreContext& ctx, const img::UnixSocket& s, const std::string& who);
  // Sends `m` (which carries files) from `from`, to `to` when given; returns the bytes sent
  // (a stream may take fewer: the rest goes without the files).
  size_t send(FdInstaller& inst, int from, const img::SocketMessage& m, const sockaddr_un* to,
              socklen_t toLen, const std::string& who);

 private:
  // cryo's copy of a file in flight: the tree's description, or one made here.
  UniqueFd take(FdInstaller& inst, const img::InFlightFile& f, const std::string& who);
  void index(RestoreContext& ctx);

  bool indexed_ = false;
  std::map<uint64_t, const img::FileDescription*> alone_;  // files only in flight, by id
  std::map<pid_t, std::unique_ptr<PidFd>> pidfds_;
};

}  // namespace cryo
