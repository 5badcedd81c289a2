// InetSocketRestorer: TCP and UDP sockets made again inside the process with their options,
// bound to the same address and port (SO_REUSEADDR held on while binding and listening, so
// that the dead original's connections do not keep the port), listening with the same
// backlog, a UDP socket connected again to its peer; a TCP connection recorded as closed
// (--tcp-close) comes back as a socket whose connection was reset (ECONNRESET, then end of
// file).
#pragma once

#include "restore/fds/FdRestorer.h"

namespace cryo {

class InetSocketRestorer : public FdRestorer {
 public:
  std::string_view name() const override { return "inet socket"; }
  bool handles(img::FileDescription::Kind kind) const override;
  void validate(RestoreContext& ctx, const img::FileDescription& d) override;
  int open(FdInstaller& inst, const img::FileDescription& d) override;

 private:
  // Connects cryo's copy `fd` of the new socket to a loopback listener of cryo's own and
  // resets the connection from there.
  static void makeReset(int fd, int family, const std::string& who);
};

}  // namespace cryo
