// PeerChannels: gRPC channels to the other nodes, made with this node's own certificate (mutual
// TLS: the peer verifies it against the cluster CA, this node verifies the peer's), one per
// address, shared by every task's replication.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "node/daemon/TlsCredentials.h"

namespace grpc {
class Channel;
}

namespace cryo::daemon {

class PeerChannels {
 public:
  // Throws std::runtime_error naming a TLS file that cannot be read.
  explicit PeerChannels(const TlsFiles& files);
  std::shared_ptr<grpc::Channel> get(const std::string& address);

 private:
  std::shared_ptr<grpc::ChannelCredentials> creds_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace cryo::daemon
