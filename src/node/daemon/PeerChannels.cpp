// PeerChannels: grpc::CreateChannel over TlsCredentials::client, cached by address.
#include "node/daemon/PeerChannels.h"

#include <grpcpp/grpcpp.h>

namespace cryo::daemon {

PeerChannels::PeerChannels(const TlsFiles& files) : creds_(TlsCredentials::client(files)) {}

std::shared_ptr<grpc::Channel> PeerChannels::get(const std::string& address) {
  std::lock_guard lk(mu_);
  auto& ch = channels_[address];
  if (!ch) ch = grpc::CreateChannel(address, creds_);
  return ch;
}

}  // namespace cryo::daemon
