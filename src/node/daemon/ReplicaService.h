// ReplicaService: the gRPC Replica service (src/node/cryod.proto) over the ReplicaReceiver:
// served only to a peer that presented a certificate of the cluster's CA (mutual TLS; the local
// UNIX socket is refused), whose certificate name is the sending node's.
#pragma once

#include "cryod.grpc.pb.h"
#include "node/daemon/ReplicaReceiver.h"

namespace cryo::daemon {

class ReplicaService final : public cryo::node::Replica::Service {
 public:
  explicit ReplicaService(ReplicaReceiver& receiver) : receiver_(receiver) {}

  grpc::Status Replicate(grpc::ServerContext* ctx,
                         grpc::ServerReader<node::ReplicaMessage>* reader,
                         node::ReplicaAck* ack) override;

 private:
  // The peer's certificate name, "" when it is not authenticated by mutual TLS.
  static std::string peerName(const grpc::ServerContext& ctx);
  ReplicaReceiver& receiver_;
};

}  // namespace cryo::daemon
