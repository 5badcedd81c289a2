// Daemon: one cryod: its task table, its gRPC listeners (the local UNIX socket, plain but
// 0600 in a 0700 directory; TCP with mutual TLS only), and its life until SIGTERM or SIGINT.
#pragma once

#include "node/daemon/Config.h"

namespace cryo::daemon {

class Daemon {
 public:
  explicit Daemon(Config config) : config_(std::move(config)) {}
  // Serves until SIGTERM, SIGINT or SIGHUP (which the caller has blocked in every thread), then
  // stops its tasks. Returns the exit status.
  int run();
  // DATA/endpoints.json: where the daemon listens (the TCP port chosen when it was 0).
  static constexpr const char* kEndpointsFile = "endpoints.json";

 private:
  Config config_;
};

}  // namespace cryo::daemon
